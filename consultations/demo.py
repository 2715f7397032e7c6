"""
Demo consultation activity, so that `make run` shows the promise at work: a
consultant with weekly hours and time off (the booking form offers real free
slots), a triager with hours (the reply estimate), saved replies, and about
five weeks of requests in every state the staff report counts: answered in
time, answered late after an apology, a breach still open, waiting, cancelled,
scheduled and spam.

Everything is placed relative to ``now``, so the demo reads the same on any
date. The rows are written as the site's own verbs would have left them (the
audit trail, held slots, due warnings) but no email is queued: nobody is
waiting for these. Loading twice changes nothing: staff, hours and saved
replies are looked up by name, and the requests are loaded only while no
visitor at DEMO_DOMAIN has one.
"""

from datetime import UTC, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from comparisons.models import Comparison

from .models import (
    CONSULTANTS_GROUP,
    RECOVERY_WORKING_HOURS,
    SLOT_LENGTH,
    AuditEvent,
    ConsultationRequest,
    DueWarning,
    PreferredWindow,
    SavedReply,
    SlotHold,
    StaffTimezone,
    TimeOff,
    WorkingHours,
    after_working_hours,
    response_time,
)
from .services import TRIAGE_GROUP
from .slots import forget_staff_hours

DEMO_DOMAIN = "visitors.example"
DEMO_COMPARISON = "pytorch-vs-tensorflow"

# (username, full name, group, timezone, weekly hours Monday to Friday)
STAFF = [
    ("connie", "Connie Consultant", CONSULTANTS_GROUP, "Europe/London", (time(9), time(17))),
    ("tess", "Tess Triager", TRIAGE_GROUP, "Europe/Berlin", (time(8), time(16))),
]

SAVED_REPLIES = [
    (
        "Ask for a time",
        "Thank you for your request. Which of the times you offered suits you best? "
        "If none does any more, reply with two or three others.",
    ),
    (
        "Confirm the slot",
        "Thank you: your consultation is booked. The invitation with the calendar entry "
        "and the meeting link follows in a separate email.",
    ),
    (
        "Sorry for the wait",
        "We are sorry we did not reply within 24 hours as we promised. Here is our answer, "
        "and a time for the call if you still want one.",
    ),
]

VISITORS = [
    ("Ada Lovelace", "Europe/London"),
    ("Grace Hopper", "America/New_York"),
    ("Alan Turing", "Europe/London"),
    ("Katherine Johnson", "America/Chicago"),
    ("Edsger Dijkstra", "Europe/Amsterdam"),
    ("Barbara Liskov", "America/Los_Angeles"),
    ("Donald Knuth", "America/Los_Angeles"),
    ("Margaret Hamilton", "America/New_York"),
    ("Tim Berners-Lee", "Europe/Zurich"),
    ("Radia Perlman", "America/New_York"),
    ("Frances Allen", "America/New_York"),
    ("Yukihiro Matsumoto", "Asia/Tokyo"),
]

TOPICS = [
    "Choosing a vector database",
    "Moving our models to the edge",
    "Serving models at scale",
    "Picking an experiment tracker",
]

# What happened to each request: (hours before now it arrived, outcome, hours
# until the first reply). On time is within the 24-hour promise; "late" was
# answered after it, with the apology sent when it passed.
REQUESTS = [
    # About five weeks ago.
    (830, "completed", 2),
    (812, "completed", 5),
    (794, "late", 31),
    (776, "completed", 20),
    (750, "cancelled", 4),
    (728, "completed", 1.5),
    # Four weeks ago.
    (664, "completed", 6),
    (642, "late", 40),
    (620, "completed", 3),
    (604, "spam", None),
    (586, "completed", 22),
    (566, "cancelled", 8),
    # Three weeks ago.
    (496, "completed", 2.5),
    (478, "completed", 11),
    (460, "completed", 4),
    (438, "late", 27),
    (420, "completed", 16),
    (400, "completed", 1),
    # Two weeks ago.
    (330, "completed", 3),
    (310, "completed", 7),
    (292, "cancelled", 5),
    (270, "completed", 23),
    (250, "completed", 2),
    (232, "spam", None),
    # Last week and this one.
    (160, "replied", 4),
    (140, "slot_cancelled", 6),
    (118, "replied", 9),
    (70, "scheduled", 3),
    (50, "scheduled", 5),
    (40, "replied", 12),
    (30, "breach", None),
    (19, "open", None),
    (14, "open", None),
    (9, "open", None),
    (5, "open", None),
    (2, "open", None),
]


def load_demo_consultations(now=None):
    """Create the demo staff, hours, saved replies and requests unless they exist.
    Returns the number of requests created (0 when they were there already)."""
    now = now or timezone.now()
    with transaction.atomic():
        staff = {row[0]: _staff_member(*row) for row in STAFF}
        _time_off(staff["connie"], now)
        for title, body in SAVED_REPLIES:
            SavedReply.objects.get_or_create(title=title, defaults={"body": body})
        if ConsultationRequest.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exists():
            return 0
        return _requests(now, consultant=staff["connie"], triager=staff["tess"])


def _staff_member(username, full_name, group, tz_name, hours):
    first, last = full_name.split(" ", 1)
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@compare.example",
            "is_staff": True,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    StaffTimezone.objects.get_or_create(user=user, defaults={"timezone": tz_name})
    if not user.working_hours.exists():
        starts, ends = hours
        WorkingHours.objects.bulk_create(
            WorkingHours(person=user, weekday=day, starts=starts, ends=ends) for day in range(5)
        )
        forget_staff_hours()  # bulk_create sends no post_save
    return user


def _time_off(person, now):
    """A long weekend taken three weeks ago, and a day off in the second week ahead."""
    if person.time_off.exists():
        return
    last = _midnight(now - timedelta(days=21))
    coming = _midnight(_weekday(now + timedelta(days=9)))
    TimeOff.objects.bulk_create(
        [
            TimeOff(person=person, starts_at=last, ends_at=last + timedelta(days=3), reason="Trip"),
            TimeOff(
                person=person, starts_at=coming, ends_at=coming + timedelta(days=1), reason="Leave"
            ),
        ]
    )


def _midnight(moment):
    return datetime.combine(moment.astimezone(UTC).date(), time(0), tzinfo=UTC)


def _weekday(moment):
    """``moment``, or the Monday after it when it falls on a weekend."""
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def _slot(moment, hour, minute=0):
    """The 30-minute slot at ``hour``:``minute`` UTC on ``moment``'s weekday (or the next)."""
    day = _weekday(moment).astimezone(UTC).date()
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _requests(now, *, consultant, triager):
    comparison = Comparison.objects.filter(slug=DEMO_COMPARISON).first()
    replies = {title: body for title, body in SAVED_REPLIES}
    # Inside the consultant's London hours in summer time too (UTC+1).
    open_slots = iter(_slot(now + timedelta(days=4), 13 + n // 2, 30 * (n % 2)) for n in range(6))
    booked_slots = iter(_slot(now + timedelta(days=2), hour) for hour in (10, 11))
    for number, (hours_ago, outcome, reply_after) in enumerate(REQUESTS):
        name, tz_name = VISITORS[number % len(VISITORS)]
        received = now - timedelta(hours=hours_ago)
        request = ConsultationRequest(
            name=name,
            email=f"{name.split()[0].lower()}.{number:02d}@{DEMO_DOMAIN}",
            company="" if number % 3 else "Example Labs",
            comparison=comparison if number % 2 else None,
            topic="" if number % 2 else TOPICS[number % len(TOPICS)],
            message="We must choose before our next release; what should we weigh?",
            timezone=tz_name,
            received_at=received,
        )
        if outcome == "spam":
            request.status = ConsultationRequest.Status.SPAM
            request.message = "Cheap followers, best price, click now"
            request.save()
            continue
        request.save()
        events = []
        if outcome in ("open", "breach"):
            slot = next(open_slots)
            PreferredWindow.objects.create(request=request, starts_at=slot)
            SlotHold.objects.take(consultant_id=consultant.pk, request=request, starts_at=slot)
            if outcome == "breach":
                _breach(request, events)
            AuditEvent.objects.bulk_create(events)
            continue
        answered = received + timedelta(hours=reply_after)
        if outcome == "late":
            _breach(request, events)
        request.assignee = triager
        request.first_response_at = answered
        request.status = ConsultationRequest.Status.CONTACTED
        title = "Sorry for the wait" if outcome == "late" else "Ask for a time"
        events += [
            _event(
                request,
                received + timedelta(minutes=20),
                AuditEvent.Kind.ASSIGNEE,
                by=triager,
                to_value=triager.get_username(),
            ),
            _event(request, answered, AuditEvent.Kind.REPLY, by=triager, note=replies[title]),
            _status(request, answered, "new", "contacted", by=triager),
        ]
        if outcome in ("completed", "scheduled", "slot_cancelled"):
            if outcome == "completed":
                slot = _slot(answered + timedelta(days=2), 10)
            elif outcome == "scheduled":
                slot = next(booked_slots)
            else:
                slot = _slot(answered + timedelta(days=2), 14)
            scheduled_at = answered + timedelta(hours=1)
            events.append(_status(request, scheduled_at, "contacted", "scheduled", by=triager))
            request.status = ConsultationRequest.Status.SCHEDULED
            request.scheduled_start = slot
            request.meeting_location = "https://meet.example/demo"
            if outcome == "completed":
                events.append(
                    _status(request, slot + SLOT_LENGTH, "scheduled", "completed", by=triager)
                )
                request.status = ConsultationRequest.Status.COMPLETED
            elif outcome == "slot_cancelled":
                cancelled = scheduled_at + timedelta(hours=20)
                events += [
                    _event(request, cancelled, AuditEvent.Kind.CANCEL, from_value=slot.isoformat()),
                    _status(request, cancelled, "scheduled", "contacted"),
                ]
                request.status = ConsultationRequest.Status.CONTACTED
                request.scheduled_start = None
                request.visitor_changed_at = cancelled
        elif outcome == "cancelled":
            withdrawn = answered + timedelta(hours=30)
            events.append(_status(request, withdrawn, "contacted", "declined"))
            request.status = ConsultationRequest.Status.DECLINED
        request.save()
        if request.status == ConsultationRequest.Status.SCHEDULED:
            SlotHold.objects.take(
                consultant_id=consultant.pk, request=request, starts_at=request.scheduled_start
            )
        AuditEvent.objects.bulk_create(events)
    return len(REQUESTS)


def _breach(request, events):
    """The reply-by time passed unanswered: the warnings and the apology's new time, as
    services.warn_due_requests leaves them (so the worker sends no second apology)."""
    missed = request.received_at + response_time() + timedelta(minutes=10)
    request.recovery_by = after_working_hours(missed, RECOVERY_WORKING_HOURS, request.timezone)
    request.save(update_fields=["recovery_by"])
    DueWarning.objects.bulk_create(
        [
            DueWarning(
                request=request, kind=DueWarning.Kind.DUE_SOON, sent_at=missed - timedelta(hours=4)
            ),
            DueWarning(request=request, kind=DueWarning.Kind.OVERDUE, sent_at=missed),
        ]
    )
    events.append(
        _event(
            request,
            missed,
            AuditEvent.Kind.BREACH,
            from_value=request.respond_by.isoformat(),
            to_value=request.recovery_by.isoformat(),
            note="Reply-by time missed: the visitor was sent an apology with a new time.",
        )
    )


def _event(request, at, kind, *, by=None, **fields):
    return AuditEvent(request=request, at=at, kind=kind, actor=by, **fields)


def _status(request, at, before, after, *, by=None):
    return _event(request, at, AuditEvent.Kind.STATUS, by=by, from_value=before, to_value=after)

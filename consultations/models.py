"""
Consultation requests and the promise to reply within CONSULTATION_REPLY_HOURS.

A ConsultationRequest is what a visitor books: their details, what they need
to decide, their timezone and two or three PreferredWindows (stored in UTC).
``respond_by`` is set once, at creation, to response_time() after ``received_at``;
``first_response_at`` is set by the first human contact (an automatic email
is not a response). Status changes follow ALLOWED_TRANSITIONS, and every
change of status or assignee, every contact and every internal note leaves an
AuditEvent. Email goes through the OutgoingEmail outbox, written in the same
transaction as the change that causes it and delivered by a background worker
(consultations/tasks.py); DueWarning records which due-soon and overdue warnings went out, and
ScheduledRun which interval each scheduled job already ran for.
"""

import logging
import secrets
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, OperationalError, connections, models, transaction
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from compare_site import leases
from compare_site.languages import language_field

logger = logging.getLogger(__name__)

# The slot grid: a consultation lasts SLOT_LENGTH and starts on a multiple of it
# within the hour (on the hour or half hour).
SLOT_LENGTH = timedelta(minutes=30)
# How far ahead a slot may be offered or booked. Every date the booking form and
# the admin's Schedule page accept is bounded by it before any arithmetic, so
# year 9999 is a message next to the field, never an OverflowError.
BOOKING_HORIZON = timedelta(weeks=4)
# Lazy: in the language of the page or email showing it.
HORIZON_TEXT = lazy(
    lambda: gettext("within the next %(weeks)s weeks") % {"weeks": BOOKING_HORIZON.days // 7},
    str,
)()
# Working hours, in the visitor's timezone, Monday to Friday: the first slot
# starts at FIRST_START, the last one has ended by LAST_END.
FIRST_START = time(8)
LAST_END = time(18)
LAST_START = (datetime.combine(date.min, LAST_END) - SLOT_LENGTH).time()
# How soon a visitor may ask for a slot.
MIN_NOTICE = timedelta(hours=2)
# A due-soon warning goes out (and the admin's "due soon" filter looks) this many
# hours before respond_by.
WARN_BEFORE_HOURS = 4
# A missed reply-by time: the apology promises a reply within this many working
# hours (FIRST_START to LAST_END, Monday to Friday, in the visitor's timezone).
RECOVERY_WORKING_HOURS = 4
# Letters and digits that cannot be mistaken for one another when read aloud.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 10
# What an anonymised request keeps in place of the visitor's details
# (.invalid is reserved: no mail can ever be delivered there).
ANONYMISED_NAME = "Anonymised"
ANONYMISED_EMAIL = "anonymised@anonymised.invalid"


def response_time():
    """How long after a request arrives a person replies: CONSULTATION_REPLY_HOURS."""
    return timedelta(hours=settings.CONSULTATION_REPLY_HOURS)


def new_reference():
    """An unguessable reference such as ``K7QW2MZP9D`` (32^10, about 10^15 codes)."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


@cache
def timezone_names():
    # "localtime" and "Factory" are tzdata artefacts, not places a visitor lives.
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory", "posixrules"})


# The areas of the tz database's canonical Area/Location names; the legacy
# aliases outside them (GB-Eire, W-SU, US/Eastern, Etc/GMT+5) are not offered.
TIMEZONE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe"}
    | {"Indian", "Pacific"}
)


@cache
def offered_timezone_names():
    """The timezones the booking form lists: UTC and the Area/Location names, sorted."""
    names = (n for n in timezone_names() if n.partition("/")[0] in TIMEZONE_AREAS and "/" in n)
    return ("UTC", *sorted(names))


def validate_timezone(value):
    if value not in timezone_names():
        raise ValidationError(
            gettext("Choose a timezone from the list, for example Europe/Berlin."),
            code="invalid_timezone",
        )


def normalise_email(address):
    """The one spelling of an address used for storing, limiting, matching and sending.

    Stripped and lower-cased: mail providers treat the local part's case as
    insignificant, and the domain's case never matters. (The booking form
    refuses quoted local parts, the other way to spell one mailbox many ways.)
    """
    return address.strip().lower()


# Time zone abbreviations that read differently in another language (German
# writes MEZ for CET); any other is shown as the time zone database spells it.
ZONE_ABBREVIATIONS = {
    "CET": pgettext_lazy("time zone abbreviation", "CET"),
    "CEST": pgettext_lazy("time zone abbreviation", "CEST"),
}


def _in_zone(moment, tz_name, date_format):
    local = moment.astimezone(zoneinfo.ZoneInfo(tz_name))
    zone = local.tzname()
    return f"{dateformat.format(local, date_format)} {ZONE_ABBREVIATIONS.get(zone, zone)}"


def format_local(moment, tz_name):
    """A moment as a visitor reads it, in the active language: "Tuesday 25 November
    2026, 14:30 CET", "Dienstag, 25. November 2026, 14:30 MEZ". An email is rendered
    in its reader's language (outbox.render_emails); what goes in its context is
    formatted in that language too (services.queue_visitor_email's callers)."""
    # Translators: a PHP-style date format (Django's "date" filter), e.g. German
    # "l, j. F Y, H:i" for "Donnerstag, 3. Dezember 2026, 05:05".
    return _in_zone(moment, tz_name, pgettext("visitor date and time", "l j F Y, H:i"))


def _short_date_format():
    # Translators: a PHP-style date format, e.g. German "D, j. M H:i" for "Do, 3. Dez 10:00".
    return pgettext("short date and time", "D j M H:i")


# What each format character of the short format stands for, as dateformat writes it.
SHORT_DATE_FIELDS = {
    "D": "{weekday}",
    "j": "{day}",
    "M": "{month}",
    "H": "{hour:02d}",
    "i": "{minute:02d}",
}


@cache
def _short_formatter(language):
    """The short format in ``language`` as a str.format template with its weekday and
    month abbreviations, made once: dateformat.format() reads the format and the
    lazily translated names on every call, about 45 us where this takes 4, and each
    queue page has 100 calls. None when the format uses other characters."""
    date_format = _short_date_format()
    if any((c.isalpha() and c not in SHORT_DATE_FIELDS) or c == "\\" for c in date_format):
        return None
    template = "".join(
        SHORT_DATE_FIELDS.get(c) or c.replace("{", "{{").replace("}", "}}") for c in date_format
    )
    weekdays = [str(WEEKDAYS_ABBR[day]) for day in range(7)]
    months = [str(MONTHS_3[month]).title() for month in range(1, 13)]
    return template, weekdays, months


def format_short(moment, tz_name):
    """A moment in a timezone, short, e.g. "Thu 3 Dec 10:00"."""
    local = moment.astimezone(zoneinfo.ZoneInfo(tz_name))
    formatter = _short_formatter(get_language())
    if formatter is None:
        return dateformat.format(local, _short_date_format())
    template, weekdays, months = formatter
    return template.format(
        weekday=weekdays[local.weekday()],
        day=local.day,
        month=months[local.month - 1],
        hour=local.hour,
        minute=local.minute,
    )


def after_working_hours(moment, hours, tz_name):
    """The moment ``hours`` working hours after ``moment``, counted on weekdays from
    FIRST_START to LAST_END in ``tz_name``, rounded up to the next whole hour."""
    zone = zoneinfo.ZoneInfo(tz_name)
    local = moment.astimezone(zone)
    left = timedelta(hours=hours)
    while True:
        day = local.date()
        opens = datetime.combine(day, FIRST_START, tzinfo=zone)
        closes = datetime.combine(day, LAST_END, tzinfo=zone)
        if day.weekday() < 5 and local < closes:
            start = max(local, opens)
            if start + left <= closes:
                end = start + left
                break
            left -= closes - start
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    if end.minute or end.second or end.microsecond:
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return end.astimezone(UTC)


def mail_domain():
    """The domain of the site's Message-IDs: the organiser address's."""
    return settings.CONSULTATION_ORGANIZER_EMAIL.rpartition("@")[2] or "compare.example"


def sign_in_records(email):
    """The sign-in records (django-axes) kept under ``email`` as a username, one
    queryset per kind: what an erasure deletes and the erase page counts."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    return [
        model.objects.filter(username__iexact=email)
        for model in (AccessAttempt, AccessFailureLog, AccessLog)
    ]


def on_slot_grid(moment):
    """Whether ``moment`` (wall-clock or aware) starts a slot, to the microsecond."""
    into_hour = timedelta(
        minutes=moment.minute, seconds=moment.second, microseconds=moment.microsecond
    )
    return into_hour % SLOT_LENGTH == timedelta(0)


def in_working_hours(local):
    """Whether a slot starting at wall-clock ``local`` lies within one working day's hours
    (the weekday is checked apart, for its own message)."""
    end = local + SLOT_LENGTH
    return local.time() >= FIRST_START and end.date() == local.date() and end.time() <= LAST_END


def validate_slot(start, now=None):
    """Staff's rule for a slot start (aware): on the grid, in the future, within the horizon."""
    now = now or timezone.now()
    if not on_slot_grid(start):
        raise ValidationError(gettext("Start on the hour or half hour."), code="slot_grid")
    if start <= now:
        raise ValidationError(gettext("Pick a slot in the future."), code="slot_past")
    if start > now + BOOKING_HORIZON:
        raise ValidationError(
            gettext("Pick a slot %(horizon)s.") % {"horizon": HORIZON_TEXT}, code="slot_too_far"
        )


class InvalidTransition(ValidationError):
    """A status change outside ALLOWED_TRANSITIONS."""


class ConsultationRequestQuerySet(models.QuerySet):
    def open(self):
        """Requests still being handled: new, contacted or scheduled."""
        return self.filter(status__in=ConsultationRequest.OPEN_STATUSES)

    def personal_data_for(self, email):
        """What is kept about the person with this email address (for the erase page)."""
        email = email.strip()
        requests = self.filter(email__iexact=email)
        return {
            "requests": list(requests.order_by("received_at")),
            "emails": OutgoingEmail.objects.filter(
                Q(to__iexact=email) | Q(request__in=requests)
            ).count(),
            "sign_in_records": sum(records.count() for records in sign_in_records(email)),
        }

    def awaiting_response(self):
        """Open requests nobody has contacted yet: the reply clock is running."""
        return self.open().filter(first_response_at__isnull=True)

    def overdue(self, now=None):
        """Awaiting a first response after respond_by (respond_by itself is on time)."""
        now = now or timezone.now()
        return self.awaiting_response().filter(respond_by__lt=now)

    def due_within(self, hours, now=None):
        """Awaiting a first response, not overdue yet, due in the next ``hours``."""
        now = now or timezone.now()
        return self.awaiting_response().filter(
            respond_by__gte=now, respond_by__lte=now + timedelta(hours=hours)
        )

    def unassigned(self):
        return self.filter(assignee__isnull=True)

    def visitor_changed(self):
        """Requests whose visitor cancelled or asked to move the consultation since staff
        last scheduled a slot: someone must look (ConsultationRequest.visitor_changed_at)."""
        return self.filter(visitor_changed_at__isnull=False)

    def closed(self):
        """Requests nobody handles any more: completed, declined, spam or duplicate."""
        return self.exclude(status__in=ConsultationRequest.OPEN_STATUSES)

    def past_retention(self, days, now=None):
        """Closed, not yet anonymised, received and last touched more than ``days`` ago."""
        cutoff = (now or timezone.now()) - timedelta(days=days)
        return (
            self.closed()
            .filter(received_at__lt=cutoff)
            .exclude(events__at__gte=cutoff)
            .exclude(email=ANONYMISED_EMAIL)
        )


class RequestStatus(models.TextChoices):
    """Where a request is; also ConsultationRequest.Status (the constraints are built from it)."""

    NEW = "new", pgettext_lazy("request status", "New")
    CONTACTED = "contacted", pgettext_lazy("request status", "Contacted")
    SCHEDULED = "scheduled", pgettext_lazy("request status", "Scheduled")
    COMPLETED = "completed", pgettext_lazy("request status", "Completed")
    DECLINED = "declined", pgettext_lazy("request status", "Declined")
    SPAM = "spam", pgettext_lazy("request status", "Spam")
    DUPLICATE = "duplicate", pgettext_lazy("request status", "Duplicate")


# Requests still being handled; also ConsultationRequest.OPEN_STATUSES (the
# queue's partial index is built from it).
OPEN_STATUSES = (RequestStatus.NEW, RequestStatus.CONTACTED, RequestStatus.SCHEDULED)


class ConsultationRequest(models.Model):
    """A visitor's request for a free 30-minute consultation."""

    Status = RequestStatus

    OPEN_STATUSES = OPEN_STATUSES
    # Statuses that never count in the response figures.
    NOT_COUNTED = (Status.SPAM, Status.DUPLICATE)
    ALLOWED_TRANSITIONS = {
        Status.NEW: {
            Status.CONTACTED,
            Status.SCHEDULED,
            Status.DECLINED,
            Status.SPAM,
            Status.DUPLICATE,
        },
        Status.CONTACTED: {Status.SCHEDULED, Status.COMPLETED, Status.DECLINED, Status.DUPLICATE},
        # Back to contacted when the slot is cancelled.
        Status.SCHEDULED: {Status.CONTACTED, Status.COMPLETED, Status.DECLINED},
        Status.COMPLETED: set(),
        Status.DECLINED: set(),
        # A request marked by mistake can be reopened.
        Status.SPAM: {Status.NEW},
        Status.DUPLICATE: {Status.NEW},
    }

    reference = models.CharField(
        _("reference"),
        max_length=REFERENCE_LENGTH,
        unique=True,
        default=new_reference,
        editable=False,
        help_text=_(
            "The code the visitor quotes, for example K7QW2MZP9D. Random, never sequential."
        ),
    )
    name = models.CharField(_("name"), max_length=120, help_text=_("For example: Ada Lovelace"))
    email = models.EmailField(_("email"), help_text=_("For example: ada@example.com"))
    company = models.CharField(
        _("company"),
        max_length=120,
        blank=True,
        help_text=_("Optional, for example: Analytical Ltd"),
    )
    comparison = models.ForeignKey(
        "comparisons.Comparison",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultation_requests",
        verbose_name=_("comparison"),
        help_text=_("The comparison the visitor came from, if any."),
    )
    topic = models.CharField(
        _("topic"),
        max_length=200,
        blank=True,
        help_text=_("What it is about when no comparison fits, for example: Choosing a database"),
    )
    message = models.TextField(
        _("what they need to decide"),
        max_length=4000,
        help_text=_("The visitor's own words, for example: Which framework for our first model?"),
    )
    # Above the timezone field, which hides django.utils.timezone in the class body.
    received_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)
    timezone = models.CharField(
        _("timezone"),
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text=_("The visitor's IANA timezone, for example Europe/Berlin."),
    )
    respond_by = models.DateTimeField(
        _("respond by"),
        editable=False,
        help_text=_(
            "CONSULTATION_REPLY_HOURS (for example 24 hours) after the request "
            "arrived; set once and never changed."
        ),
    )
    # Issue 15, the honest promise: set at booking only when the team could not
    # reply within the promise (capacity.py); respond_by stays the promise.
    expected_reply_at = models.DateTimeField(
        _("expected reply"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the booking form told the visitor to expect a reply, if later than "
            "respond by (a busy team, a weekend, a holiday)."
        ),
    )
    first_response_at = models.DateTimeField(
        _("first response"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a person first contacted the visitor."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.NEW, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultation_requests",
        verbose_name=_("assignee"),
        help_text=_("The person answering this request."),
    )
    scheduled_start = models.DateTimeField(
        _("scheduled slot"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Start of the 30-minute consultation, in UTC."),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True, editable=False)
    recovery_by = models.DateTimeField(
        _("new reply-by time"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When respond_by passed without a reply: the new time the apology "
            "promised (RECOVERY_WORKING_HOURS working hours later), e.g. Thu 3 Dec 14:00."
        ),
    )
    visitor_changed_at = models.DateTimeField(
        _("visitor cancelled or moved"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the visitor last cancelled or asked to move the consultation; "
            "cleared when staff schedule a slot."
        ),
    )
    meeting_location = models.CharField(
        _("location or meeting link"),
        max_length=300,
        blank=True,
        help_text=_(
            "Sent in the invitation, for example https://meet.example/abc-defg or "
            "Room 2, Example Street 1, Berlin."
        ),
    )
    # The visitor's language (compare_site/languages.py: the address they booked
    # at): every email to them, now or later, is written in it (outbox.render_emails).
    language = language_field(
        _(
            "The language the visitor booked in, for example Deutsch; every email "
            "to them is written in it."
        )
    )
    calendar_sequence = models.PositiveIntegerField(
        _("calendar sequence"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The SEQUENCE of the last .ics sent for this request (empty before "
            "the first); each later invitation or cancellation sends a higher one."
        ),
    )

    objects = ConsultationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["respond_by", "pk"]
        verbose_name = _("consultation request")
        verbose_name_plural = _("consultation requests")
        permissions = [("view_report", "Can view the consultation report")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.SCHEDULED) | Q(scheduled_start__isnull=False),
                name="%(app_label)s_%(class)s_scheduled_has_slot",
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.CONTACTED) | Q(first_response_at__isnull=False),
                name="%(app_label)s_%(class)s_contacted_has_first_response",
            ),
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | Q(status=RequestStatus.DUPLICATE),
                name="%(app_label)s_%(class)s_duplicate_of_is_duplicate",
            ),
            models.CheckConstraint(
                condition=Q(respond_by__gt=models.F("received_at")),
                name="%(app_label)s_%(class)s_respond_after_received",
            ),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="%(app_label)s_%(class)s_language_known",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "respond_by"], name="consultations_queue_idx"),
            # The triage queue's views, each in its order (respond_by, pk) so that a
            # page is the index's next 50 entries: the open requests (the default
            # view, due soon and overdue), the unassigned ones, and one assignee's.
            models.Index(
                fields=["respond_by", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="consultations_open_idx",
            ),
            models.Index(
                fields=["respond_by", "id"],
                condition=Q(assignee__isnull=True),
                name="consultations_unassigned_idx",
            ),
            models.Index(fields=["assignee", "respond_by"], name="consultations_assignee_idx"),
            models.Index(fields=["respond_by", "id"], name="consultations_due_idx"),
            # Every look-up by address is email__iexact, UPPER(email) = UPPER(...): the
            # booking's open-request check, duplicates, erasure. An index on the plain
            # column went unused (the trigram index answered, in milliseconds).
            models.Index(Upper("email"), "received_at", name="consultations_email_upper_idx"),
            # The report's latest breaches (and the CSV's every one) in arrival order:
            # read backwards until 100 are found, not a million rows sorted.
            models.Index(fields=["received_at", "id"], name="consultations_received_idx"),
        ]

    def __str__(self):
        return f"{self.reference} · {self.name}"

    def save(self, *args, **kwargs):
        # The deadline is derived from the arrival time once; later saves keep it.
        if self.respond_by is None:
            self.respond_by = self.received_at + response_time()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("consultations:request", kwargs={"reference": self.reference})

    @property
    def subject(self):
        return self.comparison.title if self.comparison_id else self.topic

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, now=None):
        """The same rule as ConsultationRequestQuerySet.overdue(), for one request."""
        now = now or timezone.now()
        return self.is_open and self.first_response_at is None and self.respond_by < now

    def respond_by_local(self):
        return format_local(self.respond_by, self.timezone)

    @property
    def reply_by(self):
        """The time the visitor was last promised a first reply: respond_by, or after
        a missed one the apology's new time (the report keeps judging respond_by)."""
        return self.recovery_by or self.respond_by

    def reply_by_local(self):
        return format_local(self.reply_by, self.timezone)

    @property
    def promise_broken(self):
        """respond_by passed with no reply and the visitor was sent an apology."""
        return self.recovery_by is not None

    def visitor_state(self):
        """What the visitor's pages say the request is at, one of VISITOR_STATES' keys."""
        if self.status == self.Status.SCHEDULED:
            return "scheduled"
        if not self.is_open:
            return "closed"
        if self.first_response_at is not None:
            return "replied"
        return "late" if self.promise_broken else "waiting"

    def thread_root(self):
        """The Message-ID later emails to the visitor answer (In-Reply-To, References):
        the request's first email to them, its confirmation. Empty if there is none."""
        first = self.emails.filter(to=self.email).order_by("pk").first()
        return first.message_id if first else ""

    def visitor_history(self):
        """What happened so far, as the visitor may read it: (when, text) pairs from the
        audit trail, oldest first, in the active language (the page's). Never a note, a
        name or who on the staff acted."""
        history = [(self.received_at, gettext("We received your request."))]
        for event in self.events.all():
            text = event.visitor_text(self.timezone)
            if text:
                history.append((event.at, text))
        return history

    def expected_reply_local(self):
        return format_local(self.expected_reply_at, self.timezone) if self.expected_reply_at else ""

    def due_label(self, now=None):
        """The triage badge as text: "Overdue by 3 h", "Due in 2 h", "Answered" or ""."""
        now = now or timezone.now()
        if not self.is_open:
            return ""
        if self.first_response_at is not None:
            return gettext("Answered")
        left = self.respond_by - now
        if left < timedelta(0):
            return gettext("Overdue by %(time)s") % {"time": _hours_text(-left)}
        return gettext("Due in %(time)s") % {"time": _hours_text(left)}

    def can_transition(self, to):
        return to in self.ALLOWED_TRANSITIONS[self.Status(self.status)]

    def check_transition(self, to):
        """Raise InvalidTransition, with the message staff see, outside ALLOWED_TRANSITIONS."""
        if not self.can_transition(to):
            raise InvalidTransition(
                gettext("A request that is %(status)s cannot become %(new_status)s.")
                % {
                    "status": self.get_status_display().lower(),
                    "new_status": self.Status(to).label.lower(),
                },
                code="invalid_transition",
            )

    # Domain verbs: each records who did what in the audit trail.

    @transaction.atomic
    def transition(self, to, *, by, note=""):
        """Move to status ``to``; raises InvalidTransition outside ALLOWED_TRANSITIONS.

        Becoming contacted is a person's response: the first one is recorded
        (first_response_at and a contact entry) unless one already was.
        """
        to = self.Status(to)
        self.check_transition(to)
        if to == self.Status.SCHEDULED and self.scheduled_start is None:
            raise InvalidTransition(
                gettext("Pick a 30-minute slot to schedule a request."), code="no_slot"
            )
        previous = self.status
        self.status = to
        if to == self.Status.CONTACTED:
            # Back from scheduled: the slot no longer holds.
            self.scheduled_start = None
            # Contacted means a person reached the visitor: that may be the first response.
            if self.record_first_response():
                self.events.create(actor=by, kind=AuditEvent.Kind.CONTACT)
        if previous == self.Status.DUPLICATE:
            # Reopened: no longer a duplicate of anything.
            self.duplicate_of = None
        if to not in self.OPEN_STATUSES or previous == self.Status.SCHEDULED:
            # Closed, or the scheduled slot cancelled: its consultants' slots are free again.
            self.slot_holds.all().delete()
        self.save(update_fields=["status", "scheduled_start", "first_response_at", "duplicate_of"])
        self.events.create(
            actor=by,
            kind=AuditEvent.Kind.STATUS,
            from_value=previous,
            to_value=to,
            note=note,
        )

    @transaction.atomic
    def mark_contacted(self, *, by, note="", kind=None):
        """A person contacted the visitor: the first time sets first_response_at.

        ``kind`` is the audit entry's, CONTACT (said to have happened elsewhere)
        or REPLY (sent from here; the note is the text). Returns the entry.
        """
        if not self.is_open:
            raise InvalidTransition(
                gettext("A request that is %(status)s cannot be contacted.")
                % {"status": self.get_status_display().lower()},
                code="invalid_transition",
            )
        self.record_first_response()
        event = self.events.create(actor=by, kind=kind or AuditEvent.Kind.CONTACT, note=note)
        if self.status == self.Status.NEW:
            self.transition(self.Status.CONTACTED, by=by)
        return event

    @transaction.atomic
    def assign(self, *, to, by):
        previous = self.assignee
        if previous == to:
            return
        self.assignee = to
        self.save(update_fields=["assignee"])
        self.events.create(
            actor=by,
            kind=AuditEvent.Kind.ASSIGNEE,
            from_value=previous.get_username() if previous else "",
            to_value=to.get_username() if to else "",
        )

    @transaction.atomic
    def schedule(self, start, *, by):
        """Book the 30-minute slot starting at ``start`` (scheduling is a human response)."""
        validate_slot(start)
        previous_slot = self.scheduled_start
        self.scheduled_start = start
        if self.status == self.Status.SCHEDULED:
            self.save(update_fields=["scheduled_start"])
            self.events.create(
                actor=by,
                kind=AuditEvent.Kind.SCHEDULE,
                from_value=previous_slot.isoformat() if previous_slot else "",
                to_value=start.isoformat(),
            )
        else:
            self.transition(self.Status.SCHEDULED, by=by, note=f"Slot {start:%Y-%m-%d %H:%M} UTC")
        self.record_first_response()
        if self.visitor_changed_at is not None:
            self.visitor_changed_at = None
            self.save(update_fields=["visitor_changed_at"])

    @transaction.atomic
    def mark_duplicate(self, *, of=None, by):
        """A duplicate of ``of`` (the visitor's earlier request), when known."""
        self.transition(
            self.Status.DUPLICATE, by=by, note=f"Duplicate of {of.reference}" if of else ""
        )
        if of is not None:
            self.duplicate_of = of
            self.save(update_fields=["duplicate_of"])

    def earlier_request(self):
        """The same visitor's earliest request before this one, for marking duplicates."""
        return (
            ConsultationRequest.objects.filter(
                email__iexact=self.email, received_at__lt=self.received_at
            )
            .exclude(status__in=self.NOT_COUNTED)
            .order_by("received_at")
            .first()
        )

    @transaction.atomic
    def cancel_slot(self, *, by=None, note=""):
        """The visitor (by=None) or staff cancelled the scheduled slot; the visitor's
        cancellation flags the request (visitor_changed) for staff to look at."""
        slot = self.scheduled_start
        self.events.create(actor=by, kind=AuditEvent.Kind.CANCEL, from_value=slot.isoformat())
        self.transition(self.Status.CONTACTED, by=by, note=note)
        if by is None:
            self.flag_visitor_change()

    def flag_visitor_change(self):
        self.visitor_changed_at = timezone.now()
        self.save(update_fields=["visitor_changed_at"])

    @transaction.atomic
    def offer_new_windows(self, starts):
        """The visitor asked to move the consultation: ``starts`` (UTC) replace the
        windows they offered, the slots held for them and a booked slot are freed,
        and staff are flagged."""
        self.windows.all().delete()
        self.slot_holds.all().delete()
        PreferredWindow.objects.bulk_create(
            PreferredWindow(request=self, starts_at=start) for start in sorted(starts)
        )
        if self.status == self.Status.SCHEDULED:
            self.cancel_slot(by=None, note="The visitor asked to move the slot.")
        self.events.create(
            actor=None,
            kind=AuditEvent.Kind.NEW_TIMES,
            to_value=", ".join(f"{start:%Y-%m-%d %H:%M}" for start in sorted(starts)),
        )
        self.flag_visitor_change()

    def next_calendar_sequence(self):
        """The SEQUENCE for the next .ics about this request (0 for the first), stored."""
        self.calendar_sequence = 0 if self.calendar_sequence is None else self.calendar_sequence + 1
        self.save(update_fields=["calendar_sequence"])
        return self.calendar_sequence

    @transaction.atomic
    def record_breach(self, *, now=None):
        """respond_by passed without a reply: promise a new time, RECOVERY_WORKING_HOURS
        working hours from ``now`` in the visitor's timezone, and audit it."""
        now = now or timezone.now()
        self.recovery_by = after_working_hours(now, RECOVERY_WORKING_HOURS, self.timezone)
        self.save(update_fields=["recovery_by"])
        self.events.create(
            actor=None,
            kind=AuditEvent.Kind.BREACH,
            from_value=self.respond_by.isoformat(),
            to_value=self.recovery_by.isoformat(),
            note="Reply-by time missed: the visitor was sent an apology with a new time.",
        )

    @transaction.atomic
    def anonymise(self):
        """Remove the visitor's personal data, keeping what the report counts.

        Kept: the reference, status, comparison, timezone and every time
        (received, respond by, first response, slot), so response figures
        stay the same. Removed: name, email, company, topic, message, client
        IP, the preferred windows, every note in the audit trail, the
        recipients and contents of the request's emails (a pending one is
        withdrawn), additions nobody confirmed, and the name in the admin's
        change history.
        """
        self.name = ANONYMISED_NAME
        self.email = ANONYMISED_EMAIL
        self.company = ""
        self.topic = ""
        self.message = ""
        self.client_ip = None
        self.save(update_fields=["name", "email", "company", "topic", "message", "client_ip"])
        self.windows.all().delete()
        self.events.exclude(note="").update(note="")
        self.emails.all().anonymise()
        self.pending_additions.all().delete()
        # The admin's own history names the object as it was ("REF · Ada Lovelace").
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(self), object_id=str(self.pk)
        ).update(object_repr=str(self))

    def add_note(self, text, *, by):
        return self.events.create(actor=by, kind=AuditEvent.Kind.NOTE, note=text)

    def record_first_response(self):
        """The one home of "the request got its first response": the first human contact
        (a reply, a contact, a scheduled slot) stops the clock. True when this was it."""
        if self.first_response_at is not None:
            return False
        self.first_response_at = timezone.now()
        self.save(update_fields=["first_response_at"])
        return True


def _hours_text(delta):
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    return gettext("%(hours)s h") % {"hours": minutes // 60}


class PreferredWindow(models.Model):
    """A 30-minute slot the visitor offered, stored in UTC."""

    request = models.ForeignKey(
        ConsultationRequest,
        on_delete=models.CASCADE,
        related_name="windows",
        verbose_name=_("request"),
    )
    starts_at = models.DateTimeField(
        _("starts"), help_text=_("Start of the 30-minute window, in UTC.")
    )

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("preferred window")
        verbose_name_plural = _("preferred windows")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "starts_at"], name="%(app_label)s_%(class)s_once"
            )
        ]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def ends_at(self):
        return self.starts_at + SLOT_LENGTH

    def local_label(self):
        return format_local(self.starts_at, self.request.timezone)


class AuditKind(models.TextChoices):
    """What an audit entry records; also AuditEvent.Kind (the constraint is built from it)."""

    STATUS = "status", _("Status")
    ASSIGNEE = "assignee", _("Assignee")
    NOTE = "note", _("Internal note")
    CONTACT = "contact", _("Contact")
    SCHEDULE = "schedule", _("Slot")
    REPLY = "reply", _("Reply sent")
    CANCEL = "cancel", _("Slot cancelled")
    NEW_TIMES = "new_times", _("Visitor offered new times")
    BREACH = "breach", _("Reply-by time missed")


class AuditEventQuerySet(models.QuerySet):
    def responses(self):
        """The entries a person's response to the visitor leaves, the ones that go with
        record_first_response(): a reply sent from the request, a contact (marked, or a
        move to contacted) and a slot scheduled."""
        return self.filter(
            Q(kind__in=[AuditKind.REPLY, AuditKind.CONTACT])
            | Q(kind=AuditKind.STATUS, to_value=RequestStatus.SCHEDULED)
        )


class AuditEvent(models.Model):
    """One entry in a request's audit trail: who did what, when, from what to what."""

    Kind = AuditKind

    request = models.ForeignKey(
        ConsultationRequest,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("request"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the visitor or the system acted."),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    from_value = models.CharField(_("from"), max_length=200, blank=True)
    to_value = models.CharField(_("to"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AuditKind.values),
                name="%(app_label)s_%(class)s_kind_valid",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.from_value} → {self.to_value}".strip()

    @property
    def actor_label(self):
        return self.actor.get_username() if self.actor_id else "visitor or system"

    def visitor_text(self, tz_name):
        """This entry as the visitor's status page tells it, or "" for what they do not see."""
        Kind, Status = AuditKind, RequestStatus
        if self.kind == Kind.REPLY:
            return gettext("We replied by email.")
        if self.kind == Kind.CONTACT:
            return gettext("We contacted you.")
        if self.kind == Kind.STATUS and self.to_value == Status.SCHEDULED:
            return gettext("Your consultation was scheduled.")
        if self.kind == Kind.SCHEDULE:
            slot = self._local(self.to_value, tz_name)
            return gettext("Your consultation was moved to %(slot)s.") % {"slot": slot}
        if self.kind == Kind.CANCEL:
            slot = self._local(self.from_value, tz_name)
            if self.actor_id is None:
                return gettext("You cancelled the slot on %(slot)s.") % {"slot": slot}
            return gettext("We cancelled the slot on %(slot)s.") % {"slot": slot}
        if self.kind == Kind.NEW_TIMES:
            return gettext("You offered new times.")
        if self.kind == Kind.BREACH:
            return gettext(
                "We missed our reply-by time and apologised: we promised a reply by %(time)s."
            ) % {"time": self._local(self.to_value, tz_name)}
        if self.kind == Kind.STATUS and self.to_value in (Status.COMPLETED, Status.DECLINED):
            status = str(Status(self.to_value).label).lower()
            return gettext("The request was closed (%(status)s).") % {"status": status}
        return ""

    @staticmethod
    def _local(iso, tz_name):
        return format_local(datetime.fromisoformat(iso), tz_name)


class OutboxStatus(models.TextChoices):
    """Where an outbox message is; also OutgoingEmail.Status (the constraint is built from it)."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutgoingEmailQuerySet(models.QuerySet):
    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)

    def claimable(self, now=None):
        """Due at ``now`` and not leased to a worker (never, or its lease has run out).

        Leases are always read against the real clock, whatever ``now`` says.
        """
        return self.due(now).filter(leases.lease_free())

    def claim_next(self, *, token, now=None):
        """Lease the next message due at ``now`` to the worker holding ``token``; or None.

        The claim is committed before anything is sent (compare_site/leases.py), so a
        worker that dies mid-send holds one lease only, and that lease runs out
        after OUTBOX_LEASE_SECONDS for another worker to take.
        """
        return leases.claim_next(
            lambda: self.claimable(now), token=token, seconds=settings.OUTBOX_LEASE_SECONDS
        )

    def anonymise(self):
        """Blank recipients and contents; a message not sent yet is withdrawn (failed)."""
        self.filter(status=OutboxStatus.PENDING).update(status=OutboxStatus.FAILED)
        return self.update(
            to=ANONYMISED_EMAIL,
            subject="(anonymised)",
            body="",
            ics="",
            last_error="",
        )


class OutgoingEmail(models.Model):
    """An email waiting in the outbox; a worker leases it, sends it, records the result.

    The row is the record of what was sent: background tasks only wake the
    sender up (see consultations/tasks.py and outbox.deliver_due).
    """

    Status = OutboxStatus

    MAX_ATTEMPTS = 6
    FIRST_RETRY = timedelta(minutes=1)

    request = models.ForeignKey(
        ConsultationRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("request"),
    )
    to = models.EmailField(pgettext_lazy("email", "to"))
    subject = models.CharField(pgettext_lazy("email", "subject"), max_length=200)
    body = models.TextField(_("body"))
    ics = models.TextField(
        _("calendar invite"), blank=True, help_text=_("An .ics attachment, sent as invite.ics.")
    )
    in_reply_to = models.CharField(
        _("in reply to"),
        max_length=200,
        blank=True,
        help_text=_(
            "The Message-ID of the thread's first email (In-Reply-To and References), "
            "e.g. <outbox-12.20261202093000@compare.example>."
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    leased_until = models.DateTimeField(
        _("leased until"),
        null=True,
        blank=True,
        help_text=_("A worker is sending it until then; after that another may take it over."),
    )
    lease_token = models.CharField(
        _("lease holder"),
        max_length=32,
        blank=True,
        help_text=_(
            "The claiming worker's random token, e.g. 3f2a…; results count only from the holder."
        ),
    )

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="%(app_label)s_%(class)s_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="consultations_outbox_idx")
        ]

    def __str__(self):
        return f"{self.subject} → {self.to}"

    @property
    def message_id(self):
        """The same Message-ID on every attempt, so a mail client that somehow got
        a message twice shows it once, and logs can name a message without its recipient."""
        return f"<outbox-{self.pk}.{self.created_at:%Y%m%d%H%M%S}@{mail_domain()}>"

    def as_message(self):
        headers = {"Message-ID": self.message_id}
        if self.in_reply_to:
            # One thread per request in the visitor's mail client.
            headers["In-Reply-To"] = headers["References"] = self.in_reply_to
        message = EmailMessage(subject=self.subject, body=self.body, to=[self.to], headers=headers)
        if self.ics:
            method = "CANCEL" if "METHOD:CANCEL" in self.ics else "REQUEST"
            message.attach("invite.ics", self.ics, f"text/calendar; method={method}")
        return message

    def renew_lease(self):
        """Give this worker's lease a full OUTBOX_LEASE_SECONDS from now; False if it is lost.

        Called with the connection open, right before sending, so the time the
        connection took (up to several SMTP timeouts) never eats into the
        lease. The lease is still ours while the token is: a worker taking the
        message over writes its own token, in an update that checks the lease
        has run out, so of the two updates only one can match.
        """
        self.leased_until = timezone.now() + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        return bool(
            OutgoingEmail.objects.filter(
                pk=self.pk, lease_token=self.lease_token, status=self.Status.PENDING
            ).update(leased_until=self.leased_until)
        )

    def deliver(self, connection, now=None):
        """Send once through ``connection`` (held open by the caller) and record the result.

        The caller has claimed the message (claim_next) and calls this outside
        any transaction: the send happens first, then the result is written in
        its own commit, only while this worker still holds the lease. A failure
        schedules a retry with exponential backoff, or gives up after
        MAX_ATTEMPTS. Returns True when sent, False when the send failed (the
        caller then opens a new connection for the next message), and None
        when the message was no longer this worker's to send (renew_lease).
        """
        now = now or timezone.now()
        self.attempts += 1
        try:
            # open() does nothing on an open connection; it matters for the first
            # message and after a failure: without it, the SMTP backend would open
            # and close a connection for every message.
            connection.open()
            if not self.renew_lease():
                logger.warning("Outbox message %s: lease lost before sending; not sent.", self.pk)
                return None
            connection.send_messages([self.as_message()])
        except Exception as error:  # any backend failure means "retry later"
            self.last_error = f"{type(error).__name__}: {error}"[:2000]
            # Logs name the message and the error's kind only: an SMTP error's text
            # can quote the recipient's address, which stays in the outbox row.
            if self.attempts >= self.MAX_ATTEMPTS:
                self.status = self.Status.FAILED
                logger.error(
                    "Gave up sending outbox message %s after %s attempts (%s).",
                    self.pk,
                    self.attempts,
                    type(error).__name__,
                )
            else:
                self.next_attempt_at = now + self.FIRST_RETRY * 2 ** (self.attempts - 1)
                logger.warning(
                    "Could not send outbox message %s (attempt %s of %s, %s); retrying later.",
                    self.pk,
                    self.attempts,
                    self.MAX_ATTEMPTS,
                    type(error).__name__,
                )
        else:
            self.status = self.Status.SENT
            self.sent_at = now
            self.last_error = ""
        recorded = OutgoingEmail.objects.filter(
            pk=self.pk, lease_token=self.lease_token, status=self.Status.PENDING
        ).update(
            attempts=self.attempts,
            status=self.status,
            next_attempt_at=self.next_attempt_at,
            sent_at=self.sent_at,
            last_error=self.last_error,
            leased_until=None,
            lease_token="",
        )
        if not recorded:
            # Our lease ran out (a send slower than OUTBOX_LEASE_SECONDS) and another
            # worker took the message over, or it was withdrawn (erased) meanwhile.
            logger.warning("Outbox message %s: lease lost before its result was saved.", self.pk)
        return self.status == self.Status.SENT


class WarningKind(models.TextChoices):
    """Which warning went out; also DueWarning.Kind (the constraint is built from it)."""

    # Lazy, as HORIZON_TEXT: in the language of the page showing it.
    DUE_SOON = (
        "due_soon",
        lazy(lambda: gettext("Due within %(hours)s hours") % {"hours": WARN_BEFORE_HOURS}, str)(),
    )
    OVERDUE = "overdue", _("Overdue")


class DueWarning(models.Model):
    """A due-soon or overdue warning that went out; each one only once per request."""

    Kind = WarningKind

    request = models.ForeignKey(
        ConsultationRequest,
        on_delete=models.CASCADE,
        related_name="warnings",
        verbose_name=_("request"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    sent_at = models.DateTimeField(_("queued"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("due warning")
        verbose_name_plural = _("due warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind"], name="%(app_label)s_%(class)s_once"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=WarningKind.values),
                name="%(app_label)s_%(class)s_kind_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.request.reference}"


def interval_start(moment, every):
    """The start of the ``every``-long interval holding ``moment``, counted from the
    Unix epoch in UTC: 10:17:42 is in the minute from 10:17:00 and the day from 00:00."""
    step = int(every.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // step * step, tz=UTC)


class ScheduledRunQuerySet(models.QuerySet):
    def claim(self, job, *, every, now=None):
        """Claim ``job``'s run for the interval holding ``now``; None if it is taken.

        The claim is committed before the job runs: the unique (job, interval)
        constraint makes the database refuse a second claim, however many
        schedulers enqueued the job and however many workers picked it up.
        """
        now = now or timezone.now()
        try:
            with transaction.atomic(using=self.db):
                return self.create(
                    job=job, interval_start=interval_start(now, every), started_at=now
                )
        except IntegrityError:
            return None


class ScheduledRun(models.Model):
    """One run of a scheduled job (warnings, retention) in one interval; at most one each."""

    job = models.CharField(_("job"), max_length=100, help_text=_("The task's name, e.g. warn_due."))
    interval_start = models.DateTimeField(
        _("interval"),
        help_text=_("Start of the interval this run covers, e.g. 2026-03-04 10:17 UTC."),
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(
        _("finished"), null=True, blank=True, help_text=_("Empty while running, or if it crashed.")
    )
    result = models.CharField(
        _("result"), max_length=200, blank=True, help_text=_("e.g. 2 queued.")
    )

    objects = ScheduledRunQuerySet.as_manager()

    class Meta:
        ordering = ["-interval_start", "job"]
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [
            models.UniqueConstraint(
                fields=["job", "interval_start"], name="%(app_label)s_%(class)s_once_per_interval"
            )
        ]

    def __str__(self):
        return f"{self.job} at {self.interval_start:%Y-%m-%d %H:%M} UTC"

    def finish(self, result):
        self.finished_at = timezone.now()
        self.result = str(result)[:200]
        self.save(update_fields=["finished_at", "result"])


class SpentFormTokenQuerySet(models.QuerySet):
    def past_max_age(self, now=None):
        """Spent longer ago than a token lives: such a token is refused as expired anyway."""
        now = now or timezone.now()
        return self.filter(used_at__lt=now - settings.CONSULTATION_FORM_MAX_AGE)


class SpentFormToken(models.Model):
    """The random part of a public form's render token, once a booking or a report used it.

    Each form shown carries its own signed token (see abuse.py), good for one
    booking or accuracy report within CONSULTATION_FORM_MAX_AGE. The record is in the database,
    written in the booking's transaction, not in the cache: a cache outage
    must not let one token book again and again.
    """

    nonce = models.CharField(
        _("nonce"),
        max_length=64,
        help_text=_("The token's random part, for example 3q2-7wEVQ8mC0ZFb."),
    )
    used_at = models.DateTimeField(_("used"), default=timezone.now, db_index=True)

    objects = SpentFormTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-used_at"]
        verbose_name = _("spent form token")
        verbose_name_plural = _("spent form tokens")
        constraints = [
            models.UniqueConstraint(fields=["nonce"], name="%(app_label)s_%(class)s_once")
        ]

    def __str__(self):
        return self.nonce


class PendingAdditionQuerySet(models.QuerySet):
    def past_link_age(self, now=None):
        """Older than the confirmation link lives: nobody can confirm these any more."""
        now = now or timezone.now()
        return self.filter(created_at__lt=now - ADDITION_LINK_MAX_AGE)


# How long the link that confirms a PendingAddition works.
ADDITION_LINK_MAX_AGE = timedelta(days=7)


class PendingAddition(models.Model):
    """A booking sent, from another browser, with the address of an open request.

    Whoever sent it may not own the address, so nothing on the request
    changes: the address gets an email with a signed link, and only when its
    owner follows the link is the note added to the request's audit trail,
    once (services.confirm_addition deletes the row as it applies it).
    """

    request = models.ForeignKey(
        ConsultationRequest,
        on_delete=models.CASCADE,
        related_name="pending_additions",
        verbose_name=_("request"),
    )
    note = models.TextField(
        _("note"),
        help_text=_("What the audit trail gets once confirmed, for example the new message."),
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    client_ip = models.GenericIPAddressField(
        _("client IP"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Where it was sent from, for the rate limits; goes with the row."),
    )

    objects = PendingAdditionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pending addition")
        verbose_name_plural = _("pending additions")

    def __str__(self):
        return f"Pending addition to {self.request.reference}"


class SavedReply(models.Model):
    """A starting text for replies to visitors, which staff edit in the admin."""

    title = models.CharField(
        _("title"), max_length=100, unique=True, help_text=_("For example: Ask for a time")
    )
    body = models.TextField(
        _("text"),
        max_length=4000,
        help_text=_(
            "The reply as it starts, for example: Thank you for your request. "
            "Which of these times suits you?"
        ),
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")

    def __str__(self):
        return self.title


class StaffTimezone(models.Model):
    """A staff member's own timezone: the one home of it. The admin shows them times
    in it beside the visitor's, and their WorkingHours are local times in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_timezone",
        verbose_name=_("staff member"),
    )
    timezone = models.CharField(
        _("your timezone"),
        max_length=64,
        validators=[validate_timezone],
        help_text=_("Your IANA timezone, for example Europe/Berlin."),
    )

    class Meta:
        ordering = ["user"]
        verbose_name = _("staff timezone")
        verbose_name_plural = _("staff timezones")

    def __str__(self):
        return f"{self.user.get_username()}: {self.timezone}"

    @classmethod
    def of(cls, user):
        """The user's timezone name, or settings.TIME_ZONE until they set one. No query
        when the user was loaded with select_related("staff_timezone")."""
        if not user.pk:
            return settings.TIME_ZONE
        try:
            return user.staff_timezone.timezone
        except cls.DoesNotExist:
            return settings.TIME_ZONE


# --- Consultants' hours, time off and held slots (issue 15: real free slots) ---
#
# Staff publish weekly WorkingHours and TimeOff; consultations/slots.py turns
# them into the free 30-minute slots the booking form offers, and the honest
# promise (consultations/capacity.py) reads the triagers' hours from the same
# rows. A SlotHold is one consultant's slot taken by one request.

CONSULTANTS_GROUP = "Consultants"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """One weekly stretch of a staff member's working time, in their own timezone
    (StaffTimezone.of(person): one timezone per person, for all their hours)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="working_hours",
        verbose_name=_("staff member"),
        help_text=_("A consultant (offers slots) or a triager (answers requests)."),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    starts = models.TimeField(_("from"), help_text=_("Local time, for example 09:00."))
    ends = models.TimeField(_("until"), help_text=_("Local time, for example 17:00."))

    class Meta:
        ordering = ["person", "weekday", "starts"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="%(app_label)s_%(class)s_weekday_valid",
            ),
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")),
                name="%(app_label)s_%(class)s_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"

    def clean(self):
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": gettext("End after the start, on the same day.")})


class TimeOff(models.Model):
    """A stretch when a staff member does not work (a holiday, leave): no slots, no replies."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="time_off",
        verbose_name=_("staff member"),
    )
    starts_at = models.DateTimeField(_("from"), help_text=_("For example 2026-12-24 00:00."))
    ends_at = models.DateTimeField(_("until"), help_text=_("For example 2026-12-28 00:00."))
    reason = models.CharField(_("reason"), max_length=100, blank=True, help_text=_("e.g. Holiday"))

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="%(app_label)s_%(class)s_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.person} off {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": gettext("End after the start.")})


# How long a booking waits for another one holding the same slot (SlotHoldQuerySet.take).
SLOT_LOCK_WAIT_MS = 1000
# PostgreSQL's SQLSTATE for a lock_timeout that ran out.
LOCK_NOT_AVAILABLE = "55P03"


class SlotTaken(Exception):
    """Another booking holds that consultant's slot (or every consultant's, for a start)."""


class SlotHoldQuerySet(models.QuerySet):
    def overlapping(self, consultant_id, starts_at, ends_at):
        return self.filter(
            consultant_id=consultant_id, starts_at__lt=ends_at, ends_at__gt=starts_at
        )

    def take(self, *, consultant_id, request, starts_at):
        """Hold ``consultant_id``'s slot from ``starts_at`` for ``request``; SlotTaken if held.

        One interface, two guarantees. PostgreSQL refuses an overlapping row
        itself (the exclusion constraint of migration 0011), however many
        bookings race. SQLite has no such constraint; there every transaction
        begins by taking the database's write lock (transaction_mode IMMEDIATE
        in settings), so looking for an overlap and inserting happen for one
        booking at a time.
        """
        ends_at = starts_at + SLOT_LENGTH
        on_postgresql = connections[self.db].vendor == "postgresql"
        try:
            with transaction.atomic(using=self.db):
                if on_postgresql:
                    # A booking holding the same slot, not yet committed, makes this
                    # insert wait for its outcome. Many waiting in line (20 visitors
                    # for one slot on a busy machine) ran into the statement timeout:
                    # a 503 and the form lost. Waiting briefly, then being told the
                    # slot is taken, keeps the form (if the other booking fails, the
                    # slot is offered again).
                    with connections[self.db].cursor() as cursor:
                        cursor.execute(f"SET LOCAL lock_timeout = '{SLOT_LOCK_WAIT_MS}ms'")
                elif self.overlapping(consultant_id, starts_at, ends_at).exists():
                    raise SlotTaken
                return self.create(
                    consultant_id=consultant_id,
                    request=request,
                    starts_at=starts_at,
                    ends_at=ends_at,
                )
        except IntegrityError:
            raise SlotTaken from None
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise SlotTaken from None
            raise


class SlotHold(models.Model):
    """One consultant's slot held for one request: never two requests in the same slot.

    PostgreSQL enforces it with an exclusion constraint on (consultant =,
    tstzrange(starts_at, ends_at) &&), added in migration 0011 for that
    database only; SlotHoldQuerySet.take() enforces it on SQLite.
    """

    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="slot_holds",
        verbose_name=_("consultant"),
    )
    request = models.ForeignKey(
        ConsultationRequest,
        on_delete=models.CASCADE,
        related_name="slot_holds",
        verbose_name=_("request"),
    )
    starts_at = models.DateTimeField(
        _("starts"), help_text=_("In UTC, for example 2026-11-26 15:00.")
    )
    ends_at = models.DateTimeField(_("ends"), help_text=_("30 minutes after the start."))
    created_at = models.DateTimeField(_("held since"), default=timezone.now)

    objects = SlotHoldQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "consultant"]
        verbose_name = _("held slot")
        verbose_name_plural = _("held slots")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="%(app_label)s_%(class)s_ends_after_start",
            )
        ]
        indexes = [
            models.Index(fields=["starts_at", "ends_at"], name="consultations_hold_time_idx")
        ]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M} UTC · {self.consultant} · {self.request.reference}"


# --- end of consultants' hours, time off and held slots ---

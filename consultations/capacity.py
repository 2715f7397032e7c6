"""
The honest promise: when would a request sent now get its first reply?

``estimate_first_reply()`` is a pure function of the open backlog and each
triager's working hours, time off and recent pace; ``current_estimate()``
reads those from the database (a few queries) and keeps the answer in the
cache for ESTIMATE_CACHE_SECONDS. The booking form and the confirmation say
"We are busier than usual: expect a reply by …" when the estimate is later
than the promise (``respond_by``, which stays the promise the report counts).
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from .models import AuditEvent, ConsultationRequest, format_local, response_time
from .services import TRIAGE_GROUP
from .slots import overlaps, shift_slots, staff_with_hours

# The estimate walks the triagers' hours in steps this long, up to LOOK_AHEAD.
STEP = timedelta(minutes=30)
LOOK_AHEAD = timedelta(days=21)
# A triager's pace: requests they gave the first response to (first_replies_by), per
# busy working hour over the last RECENT_DAYS (waiting_periods: an hour with nothing
# waiting says nothing of how fast they answer); DEFAULT_PACE until they have
# MIN_REPLIES_FOR_PACE such first replies in that time.
RECENT_DAYS = timedelta(days=28)
MIN_REPLIES_FOR_PACE = 5
DEFAULT_PACE = 2.0
ESTIMATE_CACHE_SECONDS = 60
CACHE_KEY = "consultations:first-reply-estimate"


@dataclass(frozen=True)
class Triager:
    """What the estimate needs of one triager: weekly hours (WorkingHours rows, or
    anything with weekday, starts and ends) as local times in ``timezone``, time
    off as (start, end) pairs, and first replies per working hour."""

    hours: tuple
    time_off: tuple = field(default=())
    pace: float = DEFAULT_PACE
    timezone: str = "UTC"


def estimate_first_reply(*, now, backlog, triagers):
    """When the request sent at ``now`` gets its first reply; None when nobody works
    within LOOK_AHEAD (or no triager published hours: then nobody knows).

    The team answers the queue in order (respond_by, so oldest first): the new
    request waits for the ``backlog`` requests ahead of it. In each STEP, every
    triager at work then answers ``pace`` requests per hour; the reply comes at
    the end of the step in which the answered requests reach backlog + 1.
    """
    end = now + LOOK_AHEAD
    capacity = {}
    for triager in triagers:
        for moment in shift_slots(triager.hours, triager.timezone, now - STEP, end):
            if not overlaps(moment, triager.time_off):
                capacity[moment] = capacity.get(moment, 0) + triager.pace * (
                    STEP / timedelta(hours=1)
                )
    answered = 0.0
    for moment in sorted(capacity):
        # A step already under way counts for the part still to come.
        share = min(max((moment + STEP - now) / STEP, 0), 1)
        answered += capacity[moment] * share
        if answered >= backlog + 1 - 1e-9:
            return max(moment + STEP, now)
    return None


def recent_pace(replies, hours, tz_name, *, now, waiting=()):
    """First replies per busy working hour over the last RECENT_DAYS, or DEFAULT_PACE.

    A working step is busy when it overlaps one of the ``waiting`` periods (sorted,
    disjoint (start, end) pairs: waiting_periods)."""
    starts = [start for start, _ in waiting]
    busy_steps = 0
    for moment in shift_slots(hours, tz_name, now - RECENT_DAYS, now - STEP):
        # The last period starting before the step ends is the only one it can overlap.
        index = bisect_left(starts, moment + STEP) - 1
        if index >= 0 and waiting[index][1] > moment:
            busy_steps += 1
    busy_hours = busy_steps * (STEP / timedelta(hours=1))
    if replies < MIN_REPLIES_FOR_PACE or not busy_hours:
        return DEFAULT_PACE
    return replies / busy_hours


def waiting_periods(now):
    """When some request waited for its first reply in the last RECENT_DAYS: sorted,
    disjoint (start, end) pairs (one query). A request still waiting waits until now;
    one waiting past the promise counts for its first response_time() only: left
    that long, it is stuck, and the hours after say nothing of the team's pace."""
    since = now - RECENT_DAYS
    promise = response_time()
    periods = (
        (max(received, since), min(answered or now, received + promise))
        for received, answered in ConsultationRequest.objects.filter(
            Q(first_response_at__isnull=True) | Q(first_response_at__gt=since),
            received_at__gt=since - promise,
            received_at__lte=now,
        )
        .order_by("received_at")
        .values_list("received_at", "first_response_at")
    )
    merged = []
    for start, end in periods:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif start < end:
            merged.append((start, end))
    return merged


def first_replies_by(people, now):
    """How many requests each of ``people`` (pks) gave the first response to in the last
    RECENT_DAYS, by pk (one query). A request counts once, for whoever left its earliest
    response entry, however it was given (a reply from the request, a contact marked,
    a slot scheduled); later replies to it count for nobody."""
    first_responder = (
        AuditEvent.objects.responses()
        .filter(request=OuterRef("pk"))
        .order_by("at", "pk")
        .values("actor")[:1]
    )
    return dict(
        ConsultationRequest.objects.filter(
            first_response_at__gte=now - RECENT_DAYS, first_response_at__lte=now
        )
        .annotate(responder=Subquery(first_responder))
        .filter(responder__in=people)
        .values("responder")
        .annotate(n=Count("pk"))
        .values_list("responder", "n")
    )


def load_triagers(now):
    """The Triage group's members with published hours, as Triager values (five queries)."""
    people = staff_with_hours(TRIAGE_GROUP, off_between=(now, now + LOOK_AHEAD))
    if not people:
        return []
    replies = first_replies_by([person.pk for person in people], now)
    waiting = waiting_periods(now)
    return [
        Triager(
            hours=person.hours,
            timezone=person.timezone,
            time_off=person.time_off,
            pace=recent_pace(
                replies.get(person.pk, 0), person.hours, person.timezone, now=now, waiting=waiting
            ),
        )
        for person in people
    ]


def current_estimate(now=None):
    """estimate_first_reply() for a request sent now, from the database, cached briefly."""
    now = now or timezone.now()
    cached = cache.get(CACHE_KEY)
    if cached is not None and cached["until"] > now:
        return cached["estimate"]
    triagers = load_triagers(now)
    estimate = None
    if triagers:
        backlog = ConsultationRequest.objects.awaiting_response().count()
        estimate = estimate_first_reply(now=now, backlog=backlog, triagers=triagers)
    seconds = timedelta(seconds=ESTIMATE_CACHE_SECONDS)
    cache.set(CACHE_KEY, {"estimate": estimate, "until": now + seconds}, ESTIMATE_CACHE_SECONDS)
    return estimate


@dataclass(frozen=True)
class Promise:
    """What the booking form says about the reply: the promise, or a later honest time."""

    respond_by: datetime
    expected: datetime | None

    @property
    def is_late(self):
        return self.expected is not None and self.expected > self.respond_by

    def expected_label(self, tz_name):
        return format_local(self.expected, tz_name) if self.is_late else ""


def promise_for(now=None):
    """The promise for a request sent ``now``: respond_by, and the estimate when later."""
    now = now or timezone.now()
    return Promise(respond_by=now + response_time(), expected=current_estimate(now))

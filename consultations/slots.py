"""
Real free slots: the consultants' weekly hours, minus their time off, minus
the slots already held, on the 30-minute grid, for BOOKING_HORIZON ahead.

``free_slots()`` is the one place that computes them: the booking form offers
them, the staff Schedule form warns outside them, and ``hold_slots()`` takes
them for a booking (one consultant per start; SlotHoldQuerySet.take keeps any
two bookings off the same consultant's slot). When no consultant has
published hours, ``free_slots()`` is None and the booking form keeps the
visitor's free-form preferred windows.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Prefetch
from django.utils import timezone

from .models import (
    BOOKING_HORIZON,
    CONSULTANTS_GROUP,
    MIN_NOTICE,
    SLOT_LENGTH,
    SlotHold,
    SlotTaken,
    StaffTimezone,
    TimeOff,
    WorkingHours,
    on_slot_grid,
)


@dataclass(frozen=True)
class WeeklyHours:
    """One weekly shift, as a WorkingHours row has it (local times), without the row."""

    weekday: int
    starts: object
    ends: object


@dataclass(frozen=True)
class StaffHours:
    """One staff member's published time: weekly ``hours`` (WorkingHours rows, or
    anything with weekday, starts and ends) as local times in ``timezone``, and
    ``time_off`` as (start, end) pairs."""

    pk: int
    hours: tuple
    timezone: str
    time_off: tuple = field(default=())

    def slots(self, start, end):
        return shift_slots(self.hours, self.timezone, start, end)

    def is_off(self, moment):
        return overlaps(moment, self.time_off)


# Who publishes hours is read on every booking and every slot page, and changes
# rarely: it is kept in the cache, forgotten whenever hours, a timezone, a
# staff account or a group membership change (forget_staff_hours, connected in
# apps.py), and at most STAFF_HOURS_CACHE_SECONDS old whatever happens (a change
# made in raw SQL). Time off is read fresh: its window differs per call.
STAFF_HOURS_CACHE_SECONDS = 60
STAFF_HOURS_CACHE_KEY = "consultations:staff-hours:{group}"


def staff_with_hours(group, *, off_between=None):
    """Active members of ``group`` who published working hours, as StaffHours (their
    timezone from StaffTimezone); with ``off_between`` (start, end), their time off
    overlapping it. The one place that reads who works when: free slots and the
    honest promise both ask it. No query when the cache knows who works (else
    two), and one more for time off when somebody does."""
    key = STAFF_HOURS_CACHE_KEY.format(group=group)
    working = cache.get(key)
    if working is None:
        people = (
            get_user_model()
            .objects.filter(groups__name=group, is_active=True, working_hours__isnull=False)
            .distinct()
            .select_related("staff_timezone")
            .prefetch_related(Prefetch("working_hours", queryset=WorkingHours.objects.order_by()))
        )
        working = [
            StaffHours(
                pk=person.pk,
                hours=tuple(
                    WeeklyHours(row.weekday, row.starts, row.ends)
                    for row in person.working_hours.all()
                ),
                timezone=StaffTimezone.of(person),
            )
            for person in people
        ]
        cache.set(key, working, STAFF_HOURS_CACHE_SECONDS)
    off = defaultdict(list)
    if working and off_between is not None:
        start, end = off_between
        for person_id, begin, finish in TimeOff.objects.filter(
            person__in=[person.pk for person in working], starts_at__lt=end, ends_at__gt=start
        ).values_list("person_id", "starts_at", "ends_at"):
            off[person_id].append((begin, finish))
    return [replace(person, time_off=tuple(off[person.pk])) for person in working]


def forget_staff_hours(**kwargs):
    """Signal receiver: who works when may have changed; read it afresh next time."""
    from .services import TRIAGE_GROUP  # services imports this module

    cache.delete_many(
        [STAFF_HOURS_CACHE_KEY.format(group=group) for group in (CONSULTANTS_GROUP, TRIAGE_GROUP)]
    )


def shift_slots(hours, tz_name, start, end):
    """The slot starts (UTC) inside ``hours`` (WorkingHours rows, local times in
    ``tz_name``) between ``start`` and ``end``."""
    tz = ZoneInfo(tz_name)
    for row in hours:
        day = start.astimezone(tz).date() - timedelta(days=1)
        last_day = end.astimezone(tz).date() + timedelta(days=1)
        while day <= last_day:
            if day.weekday() == row.weekday:
                local = datetime.combine(day, row.starts)
                # The first grid time at or after the shift's start.
                local += -(local - datetime.combine(day, datetime.min.time())) % SLOT_LENGTH
                shift_end = datetime.combine(day, row.ends)
                while local + SLOT_LENGTH <= shift_end:
                    aware = local.replace(tzinfo=tz)
                    moment = aware.astimezone(UTC)
                    # Times a daylight-saving change skips do not exist; grid in UTC too.
                    real = moment.astimezone(tz).replace(tzinfo=None) == local
                    if real and on_slot_grid(moment) and start <= moment <= end:
                        yield moment
                    local += SLOT_LENGTH
            day += timedelta(days=1)


def overlaps(moment, ranges):
    return any(begin < moment + SLOT_LENGTH and moment < finish for begin, finish in ranges)


def free_slots(now=None, *, keeping=None):
    """{slot start (UTC): [ids of consultants free then]}, in time order, from MIN_NOTICE
    ahead to BOOKING_HORIZON; None when no consultant has published hours. Four queries.

    With ``keeping`` (a request), the slots that request holds count as free:
    the visitor moving their consultation may keep one of them."""
    now = now or timezone.now()
    start, end = now + MIN_NOTICE, now + BOOKING_HORIZON
    consultants = staff_with_hours(CONSULTANTS_GROUP, off_between=(start, end + SLOT_LENGTH))
    if not consultants:
        return None
    busy = defaultdict(list)
    holds = SlotHold.objects.filter(
        consultant__in=[c.pk for c in consultants],
        starts_at__lt=end + SLOT_LENGTH,
        ends_at__gt=start,
    )
    if keeping is not None:
        holds = holds.exclude(request=keeping)
    for consultant_id, begin, finish in holds.values_list("consultant_id", "starts_at", "ends_at"):
        busy[consultant_id].append((begin, finish))
    free = defaultdict(list)
    for consultant in consultants:
        for moment in consultant.slots(start, end):
            if (
                not consultant.is_off(moment)
                and not overlaps(moment, busy[consultant.pk])
                and consultant.pk not in free[moment]
            ):
                free[moment].append(consultant.pk)
    return dict(sorted(free.items()))


def working_consultants(start, *, available=False):
    """Consultants (StaffHours) whose published hours hold the slot from ``start``, and
    with ``available`` who are not on time off then either; None when no consultant
    has published hours."""
    consultants = staff_with_hours(
        CONSULTANTS_GROUP, off_between=(start, start + SLOT_LENGTH) if available else None
    )
    if not consultants:
        return None
    return [
        consultant
        for consultant in consultants
        if start in set(consultant.slots(start, start)) and not consultant.is_off(start)
    ]


def hold_slots(*, consultation, starts, free):
    """Hold each slot in ``starts`` for ``consultation``, each with a consultant free then
    according to ``free`` (free_slots()); raises SlotTaken(start) for the first slot every
    such consultant has meanwhile given to someone else. Call it inside the booking's
    transaction, so a taken slot undoes the whole booking."""
    for start in sorted(starts):
        for consultant_id in free.get(start, ()):
            try:
                SlotHold.objects.take(
                    consultant_id=consultant_id, request=consultation, starts_at=start
                )
            except SlotTaken:
                continue
            break
        else:
            raise SlotTaken(start)


def hold_scheduled_slot(*, consultation, start):
    """Staff scheduled ``consultation`` at ``start``: it keeps only that slot's hold.

    The visitor's other held slots are freed. The slot is held, if this request
    does not hold it yet, for a consultant working then and free (the assignee
    first); with nobody working then (staff ticked "outside working hours")
    nothing is held. Raises SlotTaken when every consultant working then holds
    it for another request.
    """
    consultation.slot_holds.exclude(starts_at=start).delete()
    if consultation.slot_holds.exists():
        return
    candidates = sorted(
        (c.pk for c in working_consultants(start, available=True) or []),
        key=lambda pk: pk != consultation.assignee_id,
    )
    if not candidates:
        return
    hold_slots(consultation=consultation, starts=[start], free={start: candidates})

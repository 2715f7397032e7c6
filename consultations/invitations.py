"""
Invitations to a booked slot: the signed cancel link, the .ics invitation and
its cancellation, and the writes around them (staff schedule, move or cancel
a slot; the visitor cancels it or asks for new times). Each write queues its
email in the same transaction.

Every .ics about a request has the same UID, and each one sent has a higher
SEQUENCE than the last (ConsultationRequest.calendar_sequence), so calendars
replace the earlier invitation or remove it (METHOD:CANCEL). Text in it is
escaped by icalendar (commas, semicolons, line breaks; parameters as RFC 6868).
"""

import icalendar
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from .models import SLOT_LENGTH, format_local
from .outbox import queue_email, site_url
from .services import admin_url, queue_visitor_email, staff_recipients
from .slots import hold_slots

CANCEL_SALT = "consultations.cancel-slot"


def cancel_token(consultation):
    """A signed link token that cancels this request's current slot (and no later one)."""
    return signing.dumps(
        {"r": consultation.reference, "s": consultation.scheduled_start.isoformat()},
        salt=CANCEL_SALT,
    )


def read_cancel_token(token):
    """The request and slot a cancel token names; raises signing.BadSignature."""
    data = signing.loads(token, salt=CANCEL_SALT)
    return data["r"], data["s"]


def is_web_link(text):
    try:
        URLValidator(schemes=["https", "http"])(text)
    except ValidationError:
        return False
    return True


def calendar_file(consultation, *, start, method):
    """A valid iCalendar (.ics) for the 30-minute slot at ``start``: an invitation
    (REQUEST) or its cancellation (CANCEL), with the request's next SEQUENCE,
    in the visitor's language."""
    with translation.override(consultation.language):
        return _calendar_file(consultation, start=start, method=method)


def _calendar_file(consultation, *, start, method):
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Compare//Consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", f"{consultation.reference}@consultations.compare")
    event.add("sequence", consultation.next_calendar_sequence())
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + SLOT_LENGTH)
    event.add("summary", gettext("Free 30-minute consultation with Compare"))
    if method == "CANCEL":
        event.add("status", "CANCELLED")
        event.add(
            "description",
            gettext("Cancelled. Your reference: %(reference)s.")
            % {"reference": consultation.reference},
        )
    else:
        cancel_url = site_url(reverse("consultations:cancel", args=[cancel_token(consultation)]))
        event.add(
            "description",
            gettext("Your reference: %(reference)s. To cancel: %(cancel_url)s")
            % {"reference": consultation.reference, "cancel_url": cancel_url},
        )
        location = consultation.meeting_location
        if location:
            event.add("location", location)
            if is_web_link(location):
                event.add("url", location)
    event.add("organizer", f"mailto:{settings.CONSULTATION_ORGANIZER_EMAIL}")
    attendee = icalendar.vCalAddress(f"mailto:{consultation.email}")
    attendee.params["cn"] = icalendar.vText(consultation.name)
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def calendar_invite(consultation):
    """The invitation for the request's scheduled slot."""
    return calendar_file(consultation, start=consultation.scheduled_start, method="REQUEST")


@transaction.atomic
def schedule_consultation(*, consultation, start, by, location=None):
    """Book (or move) the slot and queue the visitor's invitation with its .ics and
    cancel link; ``location`` (a place or meeting link) goes in the invitation."""
    consultation.schedule(start, by=by)
    if location is not None and location != consultation.meeting_location:
        consultation.meeting_location = location
        consultation.save(update_fields=["meeting_location"])
    # The time and the cancel link in the visitor's language (the staff member's is English).
    with translation.override(consultation.language):
        context = {
            "slot": format_local(start, consultation.timezone),
            "location": consultation.meeting_location,
            "slot_cancel_url": site_url(
                reverse("consultations:cancel", args=[cancel_token(consultation)])
            ),
        }
    return queue_visitor_email(
        consultation, template="invite", context=context, ics=calendar_invite(consultation)
    )


def queue_cancellation(consultation, *, slot, by_visitor):
    """The visitor's .ics that removes the slot from their calendar."""
    with translation.override(consultation.language):
        when = format_local(slot, consultation.timezone)
    return queue_visitor_email(
        consultation,
        template="slot_cancelled",
        context={"slot": when, "by_visitor": by_visitor},
        ics=calendar_file(consultation, start=slot, method="CANCEL"),
    )


def notify_staff_of_visitor_change(consultation, *, template, slot=None):
    """The assignee (or triage) hears that the visitor cancelled or asked for new times."""
    queue_email(
        to=staff_recipients(consultation),
        template=template,
        context={
            "request": consultation,
            "slot": f"{slot:%A %d %B %Y, %H:%M} UTC" if slot else "",
            "windows": list(consultation.windows.all()),
            "admin_url": admin_url(consultation),
        },
        request=consultation,
    )


@transaction.atomic
def cancel_by_visitor(*, consultation):
    """The visitor cancelled from a link: free the slot, send the calendar's
    cancellation, tell the assignee (or triage) and flag the request in the queue."""
    slot = consultation.scheduled_start
    consultation.cancel_slot(by=None, note="The visitor cancelled the slot from the email link.")
    queue_cancellation(consultation, slot=slot, by_visitor=True)
    notify_staff_of_visitor_change(consultation, template="cancelled", slot=slot)


@transaction.atomic
def cancel_by_staff(*, consultation, by, to=None, note=""):
    """Staff cancelled the slot (back to contacted, or to status ``to``, e.g. declined):
    the visitor's calendar gets the cancellation."""
    slot = consultation.scheduled_start
    consultation.cancel_slot(by=by, note=note or "Staff cancelled the slot.")
    if to is not None and to != consultation.status:
        consultation.transition(to, by=by)
    queue_cancellation(consultation, slot=slot, by_visitor=False)


@transaction.atomic
def withdraw_by_visitor(*, consultation):
    """The visitor cancelled a request with no slot booked: it is declined, flagged,
    and the assignee (or triage) is told."""
    consultation.transition(
        consultation.Status.DECLINED, by=None, note="The visitor cancelled the request."
    )
    consultation.flag_visitor_change()
    notify_staff_of_visitor_change(consultation, template="cancelled")


@transaction.atomic
def new_times_from_visitor(*, consultation, starts, free=None):
    """The visitor asked to move the consultation to one of ``starts`` (UTC): a booked
    slot is cancelled (with its .ics), the assignee (or triage) is told, the request flagged.

    With ``free`` (slots.free_slots()), ``starts`` are free slots the visitor
    picked: each is held for a consultant, and one taken meanwhile raises
    models.SlotTaken with nothing changed."""
    slot = consultation.scheduled_start
    consultation.offer_new_windows(starts)
    if free is not None:
        hold_slots(consultation=consultation, starts=starts, free=free)
    if slot is not None:
        queue_cancellation(consultation, slot=slot, by_visitor=True)
    notify_staff_of_visitor_change(consultation, template="new_times", slot=slot)

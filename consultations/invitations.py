"""
Invitations to a booked slot: the signed cancel link, the .ics invitation,
and the two writes around them (staff schedule a slot; the visitor cancels it
from the link). Each write queues its email in the same transaction.
"""

import icalendar
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import SLOT_LENGTH, AuditEvent, format_local
from .outbox import queue_email, site_url
from .services import admin_url, staff_recipients

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


def calendar_invite(consultation):
    """A valid iCalendar (.ics) invitation for the scheduled 30-minute slot."""
    start = consultation.scheduled_start
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Compare//Consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{consultation.reference}@consultations.compare")
    # A later invitation for the same request replaces the earlier one in calendars.
    slots_booked = consultation.events.filter(
        Q(kind=AuditEvent.Kind.SCHEDULE) | Q(kind=AuditEvent.Kind.STATUS, to_value="scheduled")
    ).count()
    event.add("sequence", max(slots_booked - 1, 0))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + SLOT_LENGTH)
    event.add("summary", "Free 30-minute consultation with Compare")
    cancel_url = site_url(reverse("consultations:cancel", args=[cancel_token(consultation)]))
    event.add("description", f"Your reference: {consultation.reference}. To cancel: {cancel_url}")
    event.add("organizer", f"mailto:{settings.CONSULTATION_ORGANIZER_EMAIL}")
    attendee = icalendar.vCalAddress(f"mailto:{consultation.email}")
    attendee.params["cn"] = icalendar.vText(consultation.name)
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


@transaction.atomic
def schedule_consultation(*, consultation, start, by):
    """Book the slot and queue the visitor's invitation with its .ics and cancel link."""
    consultation.schedule(start, by=by)
    context = {
        "request": consultation,
        "slot": format_local(start, consultation.timezone),
        "cancel_url": site_url(reverse("consultations:cancel", args=[cancel_token(consultation)])),
    }
    return queue_email(
        to=[consultation.email],
        template="invite",
        context=context,
        request=consultation,
        ics=calendar_invite(consultation),
    )[0]


@transaction.atomic
def cancel_by_visitor(*, consultation):
    """The visitor used the signed link: free the slot and tell the staff."""
    slot = consultation.scheduled_start
    consultation.cancel_slot(by=None, note="The visitor cancelled the slot from the email link.")
    queue_email(
        to=staff_recipients(consultation),
        template="cancelled",
        context={
            "request": consultation,
            "slot": f"{slot:%A %d %B %Y, %H:%M} UTC",
            "admin_url": admin_url(consultation),
        },
        request=consultation,
    )

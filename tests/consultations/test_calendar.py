"""Calendar files: one UID per request, a stored and rising SEQUENCE, METHOD:CANCEL when
a slot is cancelled by the visitor or by staff, the location, and everything escaped."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse

from consultations import invitations
from consultations.models import ConsultationRequest, OutgoingEmail
from tests.clock import at
from tests.factories import make_consultation, make_staff
from tests.support.admin_forms import change_url
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
SLOT = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
CHANGELIST = reverse("admin:consultations_consultationrequest_changelist")


@pytest.fixture(autouse=True)
def frozen():
    with at(NOW) as traveller:
        yield traveller


@pytest.fixture
def tess():
    return make_staff("tess", group="Triage")


@pytest.fixture
def scheduled(tess):
    consultation = make_consultation(
        name="Ada Lovelace", email="ada@example.com", timezone="America/New_York", windows=[SLOT]
    )
    consultation.assign(to=tess, by=tess)
    invitations.schedule_consultation(
        consultation=consultation, start=SLOT, by=tess, location="https://meet.example/abc-defg"
    )
    return consultation


def calendars(consultation):
    """Each .ics sent to the visitor, oldest first, as (METHOD, its VEVENT)."""
    files = consultation.emails.filter(to=consultation.email).exclude(ics="").order_by("pk")
    parsed = [icalendar.Calendar.from_ical(message.ics) for message in files]
    return [(str(c["method"]), c.walk("VEVENT")[0]) for c in parsed]


class TestInvitations:
    def test_the_invitation_carries_the_meeting_link(self, scheduled):
        ((method, event),) = calendars(scheduled)
        assert method == "REQUEST"
        assert str(event["location"]) == "https://meet.example/abc-defg"
        assert str(event["url"]) == "https://meet.example/abc-defg"
        assert int(event["sequence"]) == 0
        message = scheduled.emails.exclude(ics="").get()
        assert "Where: https://meet.example/abc-defg" in message.body

    def test_moving_the_slot_sends_the_same_uid_with_a_higher_sequence(self, scheduled, tess):
        invitations.schedule_consultation(
            consultation=scheduled, start=SLOT + timedelta(days=1), by=tess
        )
        (_, first), (method, second) = calendars(scheduled)
        assert method == "REQUEST"
        assert first["uid"] == second["uid"]
        assert int(second["sequence"]) == 1
        scheduled.refresh_from_db()
        assert scheduled.calendar_sequence == 1
        # The location stays when staff leave it as it was.
        assert str(second["location"]) == "https://meet.example/abc-defg"

    def test_a_place_is_a_location_without_a_link(self, tess):
        consultation = make_consultation(windows=[SLOT])
        invitations.schedule_consultation(
            consultation=consultation, start=SLOT, by=tess, location="Room 2, Example Street 1"
        )
        ((_, event),) = calendars(consultation)
        assert str(event["location"]) == "Room 2, Example Street 1"
        assert "url" not in event
        assert (
            "LOCATION:Room 2\\, Example Street 1"
            in consultation.emails.get(to=consultation.email).ics
        )

    def test_hostile_text_is_escaped(self, tess):
        consultation = make_consultation(
            name='Eve "x"; ROLE=CHAIR:\nBEGIN:VALARM', email="eve@example.com", windows=[SLOT]
        )
        invitations.schedule_consultation(
            consultation=consultation,
            start=SLOT,
            by=tess,
            location="Room; 1\\, END:VEVENT BEGIN:VEVENT",
        )
        ics = consultation.emails.get(to="eve@example.com").ics
        lines = ics.split("\r\n")
        assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
        assert not any(line.startswith("BEGIN:VALARM") for line in lines)
        ((_, event),) = calendars(consultation)
        assert str(event["location"]) == "Room; 1\\, END:VEVENT BEGIN:VEVENT"
        assert event["attendee"].params["cn"] == 'Eve "x"; ROLE=CHAIR:\nBEGIN:VALARM'

    def test_the_schedule_page_sets_the_location(self, client, tess):
        consultation = make_consultation(windows=[SLOT])
        client.force_login(tess)
        url = reverse("admin:consultations_consultationrequest_schedule", args=[consultation.pk])
        response = client.post(
            url, {"window": SLOT.isoformat(), "location": "  https://meet.example/x  "}
        )
        assert response.status_code == 302
        consultation.refresh_from_db()
        assert consultation.meeting_location == "https://meet.example/x"
        response = client.post(url, {"window": SLOT.isoformat(), "location": "a\x00b"})
        assert response.status_code == 200


class TestCancellations:
    def test_the_visitor_cancels_the_calendar_entry_and_the_assignee_hears(self, scheduled):
        invitations.cancel_by_visitor(consultation=scheduled)
        (_, invite), (method, cancel) = calendars(scheduled)
        assert method == "CANCEL"
        assert cancel["uid"] == invite["uid"]
        assert int(cancel["sequence"]) == 1
        assert str(cancel["status"]) == "CANCELLED"
        assert cancel.decoded("dtstart") == SLOT
        message = scheduled.emails.filter(to="ada@example.com").order_by("pk").last()
        assert "Thursday 3 December 2026, 10:00 EST" in message.subject
        assert message.as_message().attachments[0][2] == "text/calendar; method=CANCEL"
        staff = OutgoingEmail.objects.get(to="tess@compare.example")
        assert staff.subject == f"Visitor cancelled the slot of {scheduled.reference}"

    def test_the_visitors_cancellation_is_flagged_in_the_queue(self, client, scheduled, tess):
        other = make_consultation(name="Someone Else")
        invitations.cancel_by_visitor(consultation=scheduled)
        client.force_login(tess)
        text = page_text(client.get(CHANGELIST + "?queue=visitor_changed"))
        assert scheduled.reference in text and other.reference not in text
        assert "01 Dec 09:00 UTC" in page_text(client.get(CHANGELIST))
        # Scheduling a new slot clears the flag.
        invitations.schedule_consultation(consultation=scheduled, start=SLOT, by=tess)
        scheduled.refresh_from_db()
        assert scheduled.visitor_changed_at is None
        ((_, _), (_, _), (method, again)) = calendars(scheduled)
        assert method == "REQUEST" and int(again["sequence"]) == 2

    def test_staff_cancelling_from_the_change_page_sends_the_cancellation(
        self, client, scheduled, tess
    ):
        client.force_login(tess)
        response = client.post(
            change_url(scheduled), {"status": "contacted", "assignee": tess.pk, "note": ""}
        )
        assert response.status_code == 302
        scheduled.refresh_from_db()
        assert scheduled.status == ConsultationRequest.Status.CONTACTED
        (_, _), (method, cancel) = calendars(scheduled)
        assert method == "CANCEL" and int(cancel["sequence"]) == 1
        # Staff cancelled: not flagged as the visitor's doing, and staff get no email.
        assert scheduled.visitor_changed_at is None
        assert not OutgoingEmail.objects.filter(to="tess@compare.example").exists()
        message = scheduled.emails.filter(to="ada@example.com").order_by("pk").last()
        assert "We had to cancel your consultation slot" in message.body

    def test_declining_a_scheduled_request_cancels_the_slot_too(self, client, scheduled, tess):
        client.force_login(tess)
        client.post(change_url(scheduled), {"status": "declined", "assignee": tess.pk, "note": ""})
        scheduled.refresh_from_db()
        assert scheduled.status == ConsultationRequest.Status.DECLINED
        assert [method for method, _ in calendars(scheduled)] == ["REQUEST", "CANCEL"]

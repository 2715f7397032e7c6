"""The visitor's private status page, from the link in the confirmation: state, promised
time in their timezone, history, and the cancel and new-times links."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from consultations import invitations, services, slots
from consultations.forms import FREE_SLOTS_RULES, SLOT_TAKEN_MESSAGE, slot_value
from consultations.models import AuditEvent, ConsultationRequest, OutgoingEmail, SlotHold
from consultations.views import SESSION_KEY
from tests.clock import at
from tests.factories import make_consultant, make_consultation, make_staff
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

# Tuesday 1 December 2026, 15:00 UTC (10:00 in New York); reply due Wednesday 10:00 there.
RECEIVED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
NOW = RECEIVED + timedelta(hours=1)
# Thursday 3 December, 15:00 UTC: 10:00 in New York.
SLOT = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with at(NOW) as traveller:
        yield traveller


@pytest.fixture
def consultation(frozen):
    fields = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "topic": "Choosing a framework",
        "message": "Which framework for our first model?",
        "timezone": "America/New_York",
    }
    return services.book_consultation(fields=fields, windows=[SLOT], now=RECEIVED).request


def link_in(message, label):
    """The path of the link after ``label`` in an email."""
    match = re.search(re.escape(label) + r".*?(http://\S+)", message.body)
    return match.group(1).removeprefix("http://127.0.0.1:8000")


def confirmation(consultation):
    return OutgoingEmail.objects.get(request=consultation, to=consultation.email)


class TestTheLink:
    def test_the_confirmation_links_to_the_status_page_and_it_shows_the_state(
        self, client, consultation
    ):
        message = confirmation(consultation)
        response = client.get(link_in(message, "Follow your request"))
        assert response.status_code == 200
        text = page_text(response)
        assert consultation.reference in text
        assert "Received. A person will reply by Wednesday 2 December 2026, 10:00 EST" in text
        assert "Tuesday 1 December 2026, 10:00 EST We received your request." in text
        html = response.content.decode()
        assert 'data-countdown="2026-12-02T15:00:00Z"' in html
        assert "/static/js/countdown." in html and "<script>" not in html

    def test_it_is_private_and_not_indexed(self, client, consultation):
        response = client.get(link_in(confirmation(consultation), "Follow your request"))
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Robots-Tag"] == "noindex"
        assert '<meta name="robots" content="noindex">' in response.content.decode()

    def test_no_session_is_needed(self, client, consultation):
        path = link_in(confirmation(consultation), "Follow your request")
        assert SESSION_KEY not in client.session
        assert "Ada Lovelace" in page_text(client.get(path))

    def test_a_forged_or_altered_link_is_a_404(self, client, consultation):
        assert client.get(f"/consultations/status/{consultation.reference}/").status_code == 404
        path = link_in(confirmation(consultation), "Follow your request")
        assert client.get(path[:-4] + "abc/").status_code == 404

    def test_the_confirmation_carries_the_cancel_and_new_times_links(self, client, consultation):
        message = confirmation(consultation)
        token = services.status_token(consultation)
        assert link_in(message, "Cancel the request") == reverse(
            "consultations:status_cancel", args=[token]
        )
        assert link_in(message, "Offer other times") == reverse(
            "consultations:status_reschedule", args=[token]
        )


class TestStates:
    def status_text(self, client, consultation):
        return page_text(
            client.get(reverse("consultations:status", args=[services.status_token(consultation)]))
        )

    def test_replied_then_scheduled_then_cancelled(self, client, consultation, frozen):
        triager = make_staff("tess", group="Triage")
        services.reply_to_visitor(consultation=consultation, text="Hello", by=triager)
        text = self.status_text(client, consultation)
        assert "Replied." in text
        assert "Tuesday 1 December 2026, 11:00 EST We replied by email." in text
        assert (
            "data-countdown"
            not in client.get(
                reverse("consultations:status", args=[services.status_token(consultation)])
            ).content.decode()
        )

        invitations.schedule_consultation(consultation=consultation, start=SLOT, by=triager)
        text = self.status_text(client, consultation)
        assert (
            "Scheduled. Your consultation is booked for Thursday 3 December 2026, 10:00 EST" in text
        )
        assert "Your consultation was scheduled." in text
        assert "Cancel the consultation" in text and "Move the consultation" in text

        invitations.cancel_by_visitor(consultation=consultation)
        text = self.status_text(client, consultation)
        assert "You cancelled the slot on Thursday 3 December 2026, 10:00 EST." in text
        # Nothing staff-only reaches the visitor: no notes, no names of staff.
        assert "tess" not in text and "from the email link" not in text

    def test_the_request_page_shows_the_same_without_personal_data(self, client, consultation):
        triager = make_staff("tess", group="Triage")
        services.reply_to_visitor(consultation=consultation, text="Private words", by=triager)
        response = client.get(consultation.get_absolute_url())
        text = page_text(response)
        assert "Replied." in text and "We replied by email." in text
        assert "Ada Lovelace" not in text and "ada@example.com" not in text
        assert "Private words" not in text
        # Without the browser's session, no cancel or new-times links either.
        assert "Cancel the request" not in text
        assert response["Cache-Control"] == "private, no-store"

    def test_the_browser_that_booked_gets_the_links_on_the_request_page(self, client, consultation):
        session = client.session
        session[SESSION_KEY] = [consultation.reference]
        session.save()
        text = page_text(client.get(consultation.get_absolute_url()))
        assert "Cancel the request" in text and "Offer other times" in text


class TestCancelFromTheStatusLink:
    def url(self, consultation):
        return reverse("consultations:status_cancel", args=[services.status_token(consultation)])

    def test_a_request_without_a_slot_is_withdrawn_and_staff_are_told(self, client, consultation):
        triager = make_staff("tess", group="Triage")
        consultation.assign(to=triager, by=triager)
        assert "Cancel your request" in page_text(client.get(self.url(consultation)))
        response = client.post(self.url(consultation), {"what": "request"}, follow=True)
        assert "Your request is cancelled." in page_text(response)
        assert "Closed." in page_text(response)
        consultation.refresh_from_db()
        assert consultation.status == ConsultationRequest.Status.DECLINED
        assert consultation.visitor_changed_at == NOW
        assert OutgoingEmail.objects.filter(
            to="tess@compare.example", subject=f"Visitor cancelled request {consultation.reference}"
        ).exists()

    def test_a_stale_form_does_not_cancel_what_changed_since(self, client, consultation):
        triager = make_staff("tess", group="Triage")
        invitations.schedule_consultation(consultation=consultation, start=SLOT, by=triager)
        # The page was opened before the slot was booked: it offered to cancel the request.
        client.post(self.url(consultation), {"what": "request"})
        consultation.refresh_from_db()
        assert consultation.status == ConsultationRequest.Status.SCHEDULED
        text = page_text(client.get(self.url(consultation)))
        assert "booked for Thursday 3 December 2026, 10:00 EST" in text

    def test_a_scheduled_slot_is_cancelled(self, client, consultation):
        triager = make_staff("tess", group="Triage")
        invitations.schedule_consultation(consultation=consultation, start=SLOT, by=triager)
        client.post(self.url(consultation), {"what": f"slot:{SLOT.isoformat()}"})
        consultation.refresh_from_db()
        assert consultation.status == ConsultationRequest.Status.CONTACTED
        assert consultation.events.filter(kind=AuditEvent.Kind.CANCEL).count() == 1


class TestNewTimes:
    def url(self, consultation):
        return reverse(
            "consultations:status_reschedule", args=[services.status_token(consultation)]
        )

    def test_new_times_in_the_visitors_timezone_replace_the_old(self, client, consultation):
        make_staff("tess", group="Triage")
        # Friday 4 December, 11:30 in New York.
        response = client.post(self.url(consultation), {"window_1": "2026-12-04T11:30"})
        assert response.status_code == 302
        consultation.refresh_from_db()
        starts = [w.starts_at for w in consultation.windows.all()]
        assert starts == [datetime(2026, 12, 4, 16, 30, tzinfo=UTC)]
        assert consultation.visitor_changed_at == NOW
        assert "You offered new times." in page_text(client.get(response["Location"]))
        assert OutgoingEmail.objects.filter(
            subject=f"Visitor asked to move {consultation.reference}"
        ).exists()

    def test_the_booking_rules_apply(self, client, consultation):
        # Saturday.
        response = client.post(self.url(consultation), {"window_1": "2026-12-05T11:00"})
        assert response.status_code == 400
        text = page_text(response)
        assert "Pick a weekday, Monday to Friday." in text
        assert "Please check the field marked below." in text
        consultation.refresh_from_db()
        assert consultation.visitor_changed_at is None
        assert [w.starts_at for w in consultation.windows.all()] == [SLOT]


class TestNewTimesInFreeSlots:
    """With a consultant's hours published (Monday to Friday 09:00–17:00 in London,
    UTC in December), the new-times page offers the booking form's free slots."""

    # Friday 4 December, 14:00 UTC: 09:00 in New York.
    NEW_SLOT = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)

    @pytest.fixture
    def connie(self, frozen):
        return make_consultant(tz="Europe/London")

    @pytest.fixture
    def held(self, connie):
        """Ada's request, booked into the free slot SLOT (held for Connie)."""
        fields = {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "topic": "Choosing a framework",
            "message": "Which framework for our first model?",
            "timezone": "America/New_York",
        }
        booking = services.book_consultation(
            fields=fields, windows=[SLOT], now=RECEIVED, free=slots.free_slots()
        )
        return booking.request

    def url(self, consultation):
        return reverse(
            "consultations:status_reschedule", args=[services.status_token(consultation)]
        )

    def holds(self):
        return list(SlotHold.objects.values_list("consultant__username", "starts_at"))

    def test_the_page_offers_free_slots_in_the_visitors_timezone(self, client, held):
        response = client.get(self.url(held))
        body = response.content.decode()
        assert 'name="window_1"' not in body
        # Her own held slot is offered too (she may keep it), in New York time.
        assert re.search(
            r'value="2026-12-03T15:00Z" id="[^"]+" aria-describedby="slot-rules">'
            r'<label for="[^"]+">10:00<span class="visually-hidden">, Thursday 3 December',
            body,
        )
        text = page_text(response)
        assert str(FREE_SLOTS_RULES) in text
        assert "Your timezone: America/New_York." in text

    def test_picking_a_new_slot_moves_the_held_and_the_booked_slot(self, client, held):
        triager = make_staff("tess", group="Triage")
        invitations.schedule_consultation(consultation=held, start=SLOT, by=triager)
        response = client.post(self.url(held), {"slots": [slot_value(self.NEW_SLOT)]})
        assert response.status_code == 302
        held.refresh_from_db()
        assert held.status == ConsultationRequest.Status.CONTACTED
        assert [w.starts_at for w in held.windows.all()] == [self.NEW_SLOT]
        assert self.holds() == [("connie", self.NEW_SLOT)]
        assert SLOT in slots.free_slots()
        assert held.visitor_changed_at == NOW
        assert "METHOD:CANCEL" in OutgoingEmail.objects.exclude(ics="").latest("pk").ics
        assert OutgoingEmail.objects.filter(
            to=triager.email, subject=f"Visitor asked to move {held.reference}"
        ).exists()

    def test_the_booking_forms_rules_and_messages_apply(self, client, held):
        response = client.post(self.url(held), {})
        assert response.status_code == 400
        assert "Pick at least one time that suits you." in page_text(response)
        four = [self.NEW_SLOT + timedelta(minutes=30 * n) for n in range(4)]
        response = client.post(self.url(held), {"slots": [slot_value(s) for s in four]})
        assert "Pick at most 3 times." in page_text(response)
        saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
        response = client.post(self.url(held), {"slots": [slot_value(saturday)]})
        assert response.status_code == 409
        assert str(SLOT_TAKEN_MESSAGE) in page_text(response)
        held.refresh_from_db()
        assert held.visitor_changed_at is None
        assert [w.starts_at for w in held.windows.all()] == [SLOT]
        assert self.holds() == [("connie", SLOT)]

    def test_a_slot_taken_meanwhile_changes_nothing(self, client, held, monkeypatch):
        # Bob's booking takes Friday's slot just after Ada's page read the free slots.
        before_bob = slots.free_slots(keeping=held)
        slots.hold_slots(consultation=make_consultation(), starts=[self.NEW_SLOT], free=before_bob)
        real_free_slots = slots.free_slots
        reads = iter([before_bob])
        monkeypatch.setattr(
            slots, "free_slots", lambda **kw: next(reads, None) or real_free_slots(**kw)
        )
        later = self.NEW_SLOT + timedelta(hours=1)
        response = client.post(
            self.url(held), {"slots": [slot_value(self.NEW_SLOT), slot_value(later)]}
        )
        assert response.status_code == 409
        assert str(SLOT_TAKEN_MESSAGE) in page_text(response)
        body = response.content.decode()
        # Her other pick stays ticked; the taken one is no longer offered.
        assert re.search(r'value="2026-12-04T15:00Z"[^>]*checked>', body)
        assert 'value="2026-12-04T14:00Z"' not in body
        held.refresh_from_db()
        assert held.visitor_changed_at is None
        assert [w.starts_at for w in held.windows.all()] == [SLOT]
        assert sorted(self.holds()) == [("connie", SLOT), ("connie", self.NEW_SLOT)]

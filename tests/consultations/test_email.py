"""The outbox: emails saved with the request, delivered after commit, retried, sent once."""

import io
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from consultations import invitations, services
from consultations.models import AuditEvent, ConsultationRequest, OutgoingEmail, format_local
from consultations.outbox import deliver_due
from tests.consultations.helpers import booking_data
from tests.factories import make_consultation, make_staff
from tests.support.flaky_mail import BROKEN
from tests.support.pages import page_text

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

BOOK_URL = reverse("consultations:book")


def deliver(**kwargs):
    call_command("deliver_email", "--once", stdout=io.StringIO(), **kwargs)


class TestAFailingMailServer:
    """The mail server is down when the visitor books and when the worker first runs."""

    @pytest.fixture
    def booked(self, client):
        with override_settings(MAILERS=BROKEN):
            response = client.post(BOOK_URL, booking_data())
            deliver()
        return response

    @pytest.fixture
    def message(self, booked):
        """The visitor's confirmation, which the failed run left in the outbox."""
        return OutgoingEmail.objects.get(
            request=ConsultationRequest.objects.get(), to="ada@example.com"
        )

    def test_the_visitor_is_not_held_up(self, booked):
        assert booked.status_code == 302
        assert ConsultationRequest.objects.count() == 1

    def test_the_failure_is_recorded_and_a_retry_planned(self, message):
        assert message.status == OutgoingEmail.Status.PENDING
        assert message.attempts == 1
        assert "mail server is down" in message.last_error
        assert message.next_attempt_at > timezone.now()
        assert mail.outbox == []

    def test_a_run_before_the_retry_is_due_sends_nothing(self, message):
        deliver()
        assert mail.outbox == []

    def test_once_due_the_message_is_delivered_once(self, message):
        later = message.next_attempt_at + timedelta(seconds=1)
        deliver_due(now=later)
        deliver_due(now=later + timedelta(hours=1))
        deliver()
        assert [m.to for m in mail.outbox] == [["ada@example.com"]]
        message.refresh_from_db()
        assert message.status == OutgoingEmail.Status.SENT
        assert message.attempts == 2
        assert message.sent_at == later


class TestOutbox:
    def test_backoff_doubles_and_gives_up_after_max_attempts(self):
        message = OutgoingEmail.objects.create(to="a@example.com", subject="Hi", body="Body")
        now = timezone.now()
        gaps = []
        with override_settings(MAILERS=BROKEN):
            for _ in range(OutgoingEmail.MAX_ATTEMPTS):
                message.refresh_from_db()
                due = message.next_attempt_at
                deliver_due(now=due)
                message.refresh_from_db()
                gaps.append(message.next_attempt_at - due)
        assert gaps[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
        assert message.status == OutgoingEmail.Status.FAILED
        assert message.attempts == OutgoingEmail.MAX_ATTEMPTS
        deliver_due(now=now + timedelta(days=30))
        assert mail.outbox == []

    def test_a_sent_message_is_not_sent_again(self):
        OutgoingEmail.objects.create(to="a@example.com", subject="Hi", body="Body")
        deliver()
        deliver()
        assert len(mail.outbox) == 1

    def test_the_booking_and_its_emails_are_one_transaction(self, monkeypatch):
        def explode(**kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(services, "triage_recipients", explode)
        with pytest.raises(RuntimeError):
            services.book_consultation(
                fields={
                    "name": "Ada",
                    "email": "ada@example.com",
                    "company": "",
                    "comparison": None,
                    "topic": "Databases",
                    "message": "Help",
                    "timezone": "UTC",
                },
                windows=[],
            )
        assert not ConsultationRequest.objects.exists()
        assert not OutgoingEmail.objects.exists()

    @pytest.mark.usefixtures("triager")
    @override_settings(CONSULTATION_TRIAGE_EMAIL="triage@compare.example")
    def test_triage_email_setting_takes_the_staff_notification(self, client):
        client.post(BOOK_URL, booking_data())
        recipients = set(OutgoingEmail.objects.values_list("to", flat=True))
        assert recipients == {"ada@example.com", "triage@compare.example"}

    def test_visitor_text_reaches_the_email_unescaped_as_plain_text(self, client):
        client.post(BOOK_URL, booking_data(name="Ada O'Brien & Co"))
        body = OutgoingEmail.objects.get(to="ada@example.com").body
        assert "Hello Ada O'Brien & Co," in body


def scheduled_request(start):
    triager = make_staff("tess", group="Triage")
    request = make_consultation(
        name="Ada Lovelace", email="ada@example.com", timezone="Europe/Paris", windows=[start]
    )
    message = invitations.schedule_consultation(consultation=request, start=start, by=triager)
    return request, message, triager


def next_slot():
    day = timezone.now().date() + timedelta(days=3)
    return datetime(day.year, day.month, day.day, 13, 30, tzinfo=UTC)


class TestInvitation:
    def test_the_ics_parses_and_carries_the_right_time(self):
        start = next_slot()
        request, message, _ = scheduled_request(start)
        deliver()
        sent = mail.outbox[0]
        assert sent.to == ["ada@example.com"]
        ((filename, content, mimetype),) = sent.attachments
        assert filename == "invite.ics" and mimetype == "text/calendar; method=REQUEST"
        calendar = icalendar.Calendar.from_ical(content)
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("dtstart") == start
        assert event.decoded("dtend") == start + timedelta(minutes=30)
        assert str(event["attendee"]) == "mailto:ada@example.com"
        assert request.reference in str(event["description"])
        assert str(calendar["method"]) == "REQUEST"
        local = start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
        assert f"{local:%H:%M}" in sent.subject

    def test_scheduling_is_a_first_response_and_is_audited(self):
        request, _, triager = scheduled_request(next_slot())
        request.refresh_from_db()
        assert request.status == ConsultationRequest.Status.SCHEDULED
        assert request.first_response_at is not None
        event = request.events.get(kind=AuditEvent.Kind.STATUS)
        assert (event.actor, event.from_value, event.to_value) == (triager, "new", "scheduled")


class TestCancelLink:
    def cancel_url(self, message):
        return next(
            word for word in message.body.split() if "/consultations/cancel/" in word
        ).removeprefix("http://127.0.0.1:8000")

    def test_the_visitor_cancels_with_a_confirm_post(self, client):
        request, message, triager = scheduled_request(next_slot())
        url = self.cancel_url(message)
        page = client.get(url)
        assert "Yes, cancel this slot" in page_text(page)
        request.refresh_from_db()
        assert request.status == ConsultationRequest.Status.SCHEDULED  # GET changes nothing

        response = client.post(url, follow=True)
        text = page_text(response)
        slot = format_local(next_slot(), "Europe/Paris")
        assert f"Your consultation slot on {slot} is cancelled" in text
        # Only that: never "cancelled" beside "nothing to cancel".
        assert "nothing to cancel" not in text
        request.refresh_from_db()
        assert request.status == ConsultationRequest.Status.CONTACTED
        assert request.scheduled_start is None
        event = request.events.filter(kind=AuditEvent.Kind.STATUS).last()
        assert event.actor is None and "cancelled" in event.note
        assert OutgoingEmail.objects.filter(
            to=triager.email, subject__contains="cancelled"
        ).exists()

        # The link is spent: a second click cancels nothing more and says the same.
        again = page_text(client.post(url, follow=True))
        assert f"Your consultation slot on {slot} is cancelled" in again
        assert "nothing to cancel" not in again
        assert request.events.filter(kind=AuditEvent.Kind.CANCEL).count() == 1

    def test_a_tampered_link_is_refused(self, client):
        _, message, _ = scheduled_request(next_slot())
        url = self.cancel_url(message)
        response = client.get(url[:-3] + "xyz/")
        assert response.status_code == 404
        assert "not valid" in page_text(response)

    def test_an_old_link_does_not_cancel_a_new_slot(self, client):
        request, message, triager = scheduled_request(next_slot())
        old_url = self.cancel_url(message)
        invitations.schedule_consultation(
            consultation=request, start=next_slot() + timedelta(days=1), by=triager
        )
        client.post(old_url)
        request.refresh_from_db()
        assert request.status == ConsultationRequest.Status.SCHEDULED
        # The new invitation updates the same calendar event.
        first, second = (
            icalendar.Calendar.from_ical(m.ics).walk("VEVENT")[0]
            for m in OutgoingEmail.objects.exclude(ics="").order_by("pk")
        )
        assert first["uid"] == second["uid"]
        assert (first["sequence"], second["sequence"]) == (0, 1)
        assert second.decoded("dtstart") == next_slot() + timedelta(days=1)

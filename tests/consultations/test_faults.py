"""Faults during a booking: the database or the mail server goes down.

Database down: the visitor gets the 503 page with the fallback address,
nothing is half-saved, no email goes out. Mail server down: every accepted
request stays saved and each of its messages is delivered exactly once after
the server is back, however many passes failed in between.
"""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    OutgoingEmail,
    PreferredWindow,
)
from consultations.outbox import deliver_due
from tests.compare_site.test_error_pages import assert_no_trace, database_down
from tests.consultations.helpers import booking_data
from tests.support.flaky_mail import BROKEN

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

BOOK_URL = reverse("consultations:book")


@pytest.fixture(autouse=True)
def triage_address(settings):
    settings.CONSULTATION_TRIAGE_EMAIL = "triage@compare.example"


def deliver(*args):
    call_command("deliver_email", "--once", *args, stdout=io.StringIO())


def assert_nothing_saved_or_sent():
    assert not ConsultationRequest.objects.exists()
    assert not PreferredWindow.objects.exists()
    assert not AuditEvent.objects.exists()
    assert not OutgoingEmail.objects.exists()
    deliver()
    assert mail.outbox == []


def assert_the_503_page(response):
    assert response.status_code == 503
    page = response.content.decode()
    assert "We are briefly unavailable" in page
    assert f'href="mailto:{settings.CONTACT_EMAIL}"' in page
    assert_no_trace(page)


class TestDatabaseDownDuringABooking:
    def test_down_from_the_first_query(self):
        client = Client(raise_request_exception=False)
        with database_down():
            response = client.post(BOOK_URL, booking_data())
        assert_the_503_page(response)
        assert_nothing_saved_or_sent()

    def test_down_after_the_request_was_written(self):
        """The request row exists when the connection drops while its emails are
        queued: the whole booking rolls back."""
        seen = []

        def count_then_fail(emails):
            seen.append(ConsultationRequest.objects.count())
            raise OperationalError("server closed the connection unexpectedly")

        client = Client(raise_request_exception=False)
        with mock.patch.object(OutgoingEmail.objects, "bulk_create", side_effect=count_then_fail):
            response = client.post(BOOK_URL, booking_data())
        assert seen == [1]  # the request was saved before the failure
        assert_the_503_page(response)
        assert_nothing_saved_or_sent()

    def test_down_while_saving_the_windows(self):
        client = Client(raise_request_exception=False)
        with mock.patch.object(
            PreferredWindow.objects,
            "bulk_create",
            side_effect=OperationalError("terminating connection due to administrator command"),
        ):
            response = client.post(BOOK_URL, booking_data())
        assert_the_503_page(response)
        assert_nothing_saved_or_sent()

    def test_the_visitor_can_book_again_once_the_database_is_back(self):
        client = Client(raise_request_exception=False)
        with database_down():
            assert client.post(BOOK_URL, booking_data()).status_code == 503
        response = client.post(BOOK_URL, booking_data())
        assert response.status_code == 302
        assert ConsultationRequest.objects.count() == 1
        assert OutgoingEmail.objects.count() == 2


class TestMailServerDown:
    VISITORS = [f"visitor{number}@example.com" for number in range(5)]

    def book_all(self, client):
        for address in self.VISITORS:
            response = client.post(BOOK_URL, booking_data(email=address), REMOTE_ADDR="192.0.2.1")
            assert response.status_code == 302

    def test_several_requests_survive_several_failed_passes_and_are_mailed_once(self, client):
        self.book_all(client)
        now = timezone.now()
        with override_settings(MAILERS=BROKEN):
            # Three failed passes, each at the moment the messages are due again.
            for attempt in range(1, 4):
                sent, failed = deliver_due(now=now)
                assert (sent, failed) == (0, 10)
                assert set(OutgoingEmail.objects.values_list("attempts", flat=True)) == {attempt}
                now = max(OutgoingEmail.objects.values_list("next_attempt_at", flat=True))
        assert mail.outbox == []
        assert ConsultationRequest.objects.count() == 5
        assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"pending"}

        # The server is back: one pass sends everything, later passes nothing more.
        assert deliver_due(now=now) == (10, 0)
        assert deliver_due(now=now + timedelta(days=1)) == (0, 0)
        deliver()
        recipients = sorted(message.to[0] for message in mail.outbox)
        assert recipients == sorted(self.VISITORS + ["triage@compare.example"] * 5)
        subjects = [message.subject for message in mail.outbox]
        assert len(set(subjects)) == 10  # each message once: no subject twice
        assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {("sent", 4)}

    def test_retry_now_sends_at_once_after_an_outage(self, client):
        self.book_all(client)
        with override_settings(MAILERS=BROKEN):
            deliver()
        deliver()
        assert mail.outbox == []  # still backing off
        deliver("--retry-now")
        assert len(mail.outbox) == 10
        assert not OutgoingEmail.objects.exclude(status="sent").exists()

    def test_each_retry_of_a_message_has_the_same_message_id(self, client):
        self.book_all(client)
        message = OutgoingEmail.objects.first()
        first = message.as_message().message()["Message-ID"]
        assert message.as_message().message()["Message-ID"] == first
        others = {m.as_message().message()["Message-ID"] for m in OutgoingEmail.objects.all()}
        assert len(others) == 10

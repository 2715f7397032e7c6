"""With the cache down, bookings are accepted and the rate limits count in the database.

The cache is the fail-open Redis backend on a closed port (see the
``cache_down`` fixture): the same limits must hold, counted from the stored
bookings of the last 60 minutes, and the fallback is logged.
"""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from consultations import abuse
from consultations.models import ConsultationRequest, OutgoingEmail, PendingAddition
from tests.clock import at
from tests.consultations.helpers import booking_data
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db

BOOK_URL = reverse("consultations:book")
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def warn_afresh(monkeypatch):
    monkeypatch.setattr(abuse, "_fallback_warned_at", None)


def fallback_warnings(caplog):
    return [r for r in caplog.records if "counted in the database" in r.getMessage()]


def test_a_valid_booking_is_accepted_and_the_fallback_logged(cache_down, client, caplog):
    response = client.post(BOOK_URL, booking_data())
    assert response.status_code == 302
    assert ConsultationRequest.objects.get().email == "ada@example.com"
    [warning] = fallback_warnings(caplog)
    assert warning.levelno == logging.WARNING
    assert "ada@example.com" not in caplog.text


def test_the_warning_is_logged_once_a_minute_not_per_booking(cache_down, client, caplog):
    for number in range(3):
        client.post(BOOK_URL, booking_data(email=f"v{number}@example.com"))
    assert len(fallback_warnings(caplog)) == 1


@override_settings(CONSULTATION_BOOKINGS_PER_IP_HOUR=2)
def test_per_client_ip(cache_down, client):
    for number in range(2):
        response = client.post(BOOK_URL, booking_data(email=f"v{number}@example.com"))
        assert response.status_code == 302
    response = client.post(BOOK_URL, booking_data(email="v3@example.com"))
    assert response.status_code == 429
    assert ConsultationRequest.objects.count() == 2
    other = client.post(BOOK_URL, booking_data(email="v4@example.com"), REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 302


@override_settings(CONSULTATION_BOOKINGS_PER_EMAIL_HOUR=1)
def test_per_email_address_whatever_its_case(cache_down, client):
    first = client.post(BOOK_URL, booking_data(), REMOTE_ADDR="203.0.113.1")
    assert first.status_code == 302
    again = client.post(BOOK_URL, booking_data(email=" ADA@example.com"), REMOTE_ADDR="203.0.113.2")
    assert again.status_code == 429


@override_settings(CONSULTATION_BOOKINGS_PER_IP_HOUR=1)
@pytest.mark.parametrize(
    ("age", "refused"),
    [(timedelta(minutes=59, seconds=59), True), (timedelta(hours=1), False)],
)
def test_bookings_count_for_60_minutes(cache_down, client, age, refused):
    make_consultation(client_ip="127.0.0.1", received_at=NOW - age)
    with at(NOW):
        response = client.post(BOOK_URL, booking_data(email="new@example.com"))
    assert response.status_code == (429 if refused else 302)
    assert ConsultationRequest.objects.filter(email="new@example.com").exists() is not refused


@override_settings(CONSULTATION_BOOKINGS_PER_EMAIL_HOUR=2, CONSULTATION_BOOKINGS_PER_IP_HOUR=50)
def test_additions_awaiting_their_owner_count_for_the_email(cache_down, client):
    """Each booking with an open request's address from another browser emails its
    owner a confirmation link: the fallback counts those emails, so the form
    cannot be used to flood that inbox while the cache is down."""
    assert client.post(BOOK_URL, booking_data(email="victim@example.com")).status_code == 302
    stranger = Client()
    first = stranger.post(BOOK_URL, booking_data(email="victim@example.com"))
    assert first.status_code == 302
    again = Client().post(BOOK_URL, booking_data(email="VICTIM@example.com"))
    assert again.status_code == 429
    assert PendingAddition.objects.count() == 1
    assert OutgoingEmail.objects.filter(to="victim@example.com").count() == 2


@override_settings(CONSULTATION_BOOKINGS_PER_IP_HOUR=2, CONSULTATION_BOOKINGS_PER_EMAIL_HOUR=50)
def test_additions_count_for_the_address_they_come_from(cache_down):
    for number in range(2):
        make_consultation(email=f"owner{number}@example.com", client_ip="198.51.100.1")
    stranger = Client(REMOTE_ADDR="203.0.113.5")
    for number in range(2):
        response = stranger.post(BOOK_URL, booking_data(email=f"owner{number}@example.com"))
        assert response.status_code == 302
    refused = Client(REMOTE_ADDR="203.0.113.5").post(
        BOOK_URL, booking_data(email="owner0@example.com")
    )
    assert refused.status_code == 429
    assert PendingAddition.objects.filter(client_ip="203.0.113.5").count() == 2


@override_settings(CONSULTATION_BOOKINGS_PER_EMAIL_HOUR=1)
def test_plus_tags_count_as_the_same_inbox(cache_down, client):
    assert client.post(BOOK_URL, booking_data(email="ada@example.com")).status_code == 302
    tagged = Client().post(BOOK_URL, booking_data(email="Ada+1@example.com"))
    assert tagged.status_code == 429
    assert ConsultationRequest.objects.count() == 1

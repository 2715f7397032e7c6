"""Each consultation rule that is a setting is said from it: change the setting,
and the deadline, the pages and the emails all say the new number."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse

from consultations import services
from consultations.models import ConsultationRequest, OutgoingEmail, format_local
from tests.comparisons.test_views import page_text
from tests.factories import make_consultation, make_staff

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FIELDS = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "topic": "Choosing a framework",
    "message": "Which framework should we pick?",
    "timezone": "Europe/Berlin",
}


class TestTheReplyPromise:
    @pytest.fixture(autouse=True)
    def twelve_hours(self, settings):
        settings.CONSULTATION_REPLY_HOURS = 12

    def test_the_deadline_is_the_setting_after_arrival(self):
        request = make_consultation(received_at=RECEIVED)
        assert request.respond_by == RECEIVED + timedelta(hours=12)

    def test_the_booking_and_thank_you_pages_say_it(self, client):
        for name in ("consultations:book", "consultations:thanks"):
            text = page_text(client.get(reverse(name)))
            assert "within 12 hours" in text and "24 hours" not in text

    def test_the_confirmation_email_gives_the_deadline(self):
        services.book_consultation(
            fields=FIELDS, windows=[RECEIVED + timedelta(days=2, hours=1)], now=RECEIVED
        )
        email = OutgoingEmail.objects.get(to="ada@example.com")
        deadline = format_local(RECEIVED + timedelta(hours=12), "Europe/Berlin")
        assert f"reply by {deadline}" in email.subject
        assert deadline in email.body
        assert ConsultationRequest.objects.get().respond_by == RECEIVED + timedelta(hours=12)

    def test_the_report_and_its_csv_say_it(self, client):
        client.force_login(make_staff("tess", group="Triage"))
        make_consultation(received_at=RECEIVED)
        text = page_text(client.get(reverse("consultations:report")))
        assert "the 12-hour promise" in text and "Answered within 12 hours" in text
        assert "24 h" not in text and "24-hour" not in text
        csv = client.get(reverse("consultations:report") + "?format=csv").content.decode()
        assert "Answered within 12 hours per ISO week" in csv


class TestRetention:
    @override_settings(CONSULTATION_RETENTION_DAYS=200)
    def test_the_privacy_note_says_the_retention_setting(self, client):
        text = page_text(client.get(reverse("consultations:privacy")))
        assert "we delete requests 200 days after the last contact" in text

"""Staff reply from the request: threaded emails through the outbox, audited, and the
first reply stops the clock; reply-by times in both timezones; who may triage."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from consultations import services
from consultations.admin import triagers
from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    OutgoingEmail,
    SavedReply,
    StaffTimezone,
)
from tests.clock import at
from tests.factories import make_staff, make_user
from tests.support.admin_forms import change_url
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

# Wednesday 2 December 2026, 15:00 UTC: the reply is due Thursday 15:00 UTC, which is
# 10:00 in New York (EST) and 16:00 in Berlin (CET).
RECEIVED = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
NOW = RECEIVED + timedelta(hours=2)


def reply_url(consultation):
    return reverse("admin:consultations_consultationrequest_reply", args=[consultation.pk])


def booked(**fields):
    """A request made as a visitor's booking makes it: with its confirmation email."""
    fields = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "topic": "Choosing a framework",
        "message": "Which framework for our first model?",
        "timezone": "America/New_York",
        **fields,
    }
    return services.book_consultation(fields=fields, windows=[], now=RECEIVED).request


@pytest.fixture
def frozen():
    with at(NOW) as traveller:
        yield traveller


@pytest.fixture
def signed_in(client, triager):
    client.force_login(triager)
    return client


def deliver():
    call_command("deliver_email", "--once", stdout=io.StringIO())


class TestReplying:
    def test_the_first_reply_goes_out_in_the_thread_and_stops_the_clock(
        self, frozen, signed_in, triager
    ):
        consultation = booked()
        confirmation = OutgoingEmail.objects.get(to="ada@example.com")
        response = signed_in.post(
            reply_url(consultation), {"text": "Thursday 10:00 suits us. Does it suit you?"}
        )
        assert response.status_code == 302

        consultation.refresh_from_db()
        assert consultation.first_response_at == NOW
        assert consultation.status == ConsultationRequest.Status.CONTACTED
        event = consultation.events.get(kind=AuditEvent.Kind.REPLY)
        assert (event.actor, event.note) == (triager, "Thursday 10:00 suits us. Does it suit you?")

        reply = OutgoingEmail.objects.get(to="ada@example.com", in_reply_to__gt="")
        deliver()
        sent = {message.subject: message.message() for message in mail.outbox}
        subject = f"Re: Your free consultation request [{consultation.reference}]"
        headers = sent[subject]
        assert headers["Message-ID"] == reply.message_id != confirmation.message_id
        assert headers["In-Reply-To"] == confirmation.message_id
        assert headers["References"] == confirmation.message_id
        # The thread starts with the confirmation, which answers nothing itself.
        root = next(m for s, m in sent.items() if s.startswith("Your free consultation request"))
        assert root["Message-ID"] == confirmation.message_id and root["In-Reply-To"] is None
        assert f"[{consultation.reference}]" in root["Subject"]
        body = next(m for m in mail.outbox if m.subject == subject).body
        assert "Hello Ada Lovelace," in body and "Does it suit you?" in body

    def test_a_later_reply_keeps_the_first_response_time(self, frozen, signed_in):
        consultation = booked()
        signed_in.post(reply_url(consultation), {"text": "First."})
        frozen.shift(timedelta(hours=3))
        signed_in.post(reply_url(consultation), {"text": "Second."})
        consultation.refresh_from_db()
        assert consultation.first_response_at == NOW
        assert consultation.events.filter(kind=AuditEvent.Kind.REPLY).count() == 2
        assert consultation.events.filter(kind=AuditEvent.Kind.CONTACT).count() == 0

    def test_an_empty_reply_is_refused_and_nothing_is_sent(self, frozen, signed_in):
        consultation = booked()
        response = signed_in.post(reply_url(consultation), {"text": "  "})
        assert response.status_code == 200
        assert "This field is required." in page_text(response)
        consultation.refresh_from_db()
        assert consultation.first_response_at is None
        assert OutgoingEmail.objects.filter(in_reply_to__gt="").count() == 0

    def test_a_closed_request_cannot_be_answered(self, frozen, signed_in, triager):
        consultation = booked()
        consultation.transition(ConsultationRequest.Status.DECLINED, by=triager)
        response = signed_in.post(reply_url(consultation), {"text": "Hello?"})
        assert "This request is closed" in page_text(response)
        assert not consultation.events.filter(kind=AuditEvent.Kind.REPLY).exists()

    def test_a_saved_reply_is_the_starting_text(self, frozen, signed_in):
        consultation = booked()
        saved = SavedReply.objects.create(
            title="Ask for a time", body="Which of these times suits you: <b>Thursday</b>?"
        )
        page = signed_in.get(reply_url(consultation))
        assert "Ask for a time" in page_text(page)
        page = signed_in.get(reply_url(consultation) + f"?saved={saved.pk}")
        # In the text area, escaped like any text.
        assert "Which of these times suits you: &lt;b&gt;Thursday&lt;/b&gt;?" in (
            page.content.decode()
        )

    def test_the_reply_needs_the_csrf_token(self, frozen, triager):
        consultation = booked()
        client = Client(enforce_csrf_checks=True)
        client.force_login(triager)
        response = client.post(reply_url(consultation), {"text": "Hello"})
        assert response.status_code == 403
        consultation.refresh_from_db()
        assert consultation.first_response_at is None

    def test_the_change_page_has_the_reply_button(self, frozen, signed_in):
        consultation = booked()
        page = signed_in.get(change_url(consultation))
        assert f'href="{reply_url(consultation)}"' in page.content.decode()


class TestWhoMayReply:
    def test_an_editor_is_refused(self, frozen, client, editor):
        consultation = booked()
        client.force_login(editor)
        assert client.get(reply_url(consultation)).status_code == 403
        assert client.post(reply_url(consultation), {"text": "Hi"}).status_code == 403
        assert not consultation.events.filter(kind=AuditEvent.Kind.REPLY).exists()

    def test_a_visitor_is_sent_to_the_sign_in(self, frozen, client, visitor):
        consultation = booked()
        client.force_login(visitor)
        response = client.get(reply_url(consultation))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_the_triage_group_may_edit_saved_replies(self, triager):
        assert triager.has_perm("consultations.change_savedreply")
        assert triager.has_perm("consultations.add_savedreply")

    def test_only_triagers_can_be_assigned(self, frozen, signed_in, triager, editor, superuser):
        make_user("not-staff")
        make_staff("gone", group="Triage", is_active=False)
        assert list(triagers()) == [superuser, triager]
        consultation = booked()
        page = signed_in.get(change_url(consultation)).content.decode()
        assert f'<option value="{triager.pk}">' in page
        assert f'<option value="{editor.pk}">' not in page
        response = signed_in.post(
            change_url(consultation), {"status": "new", "assignee": editor.pk, "note": ""}
        )
        assert "Select a valid choice" in page_text(response)


class TestReplyByTimes:
    def test_staff_see_the_visitors_time_and_their_own(self, frozen, signed_in, triager):
        StaffTimezone.objects.create(user=triager, timezone="Europe/Berlin")
        consultation = booked()
        expected = (
            "Thu 3 Dec 10:00 (visitor, America/New_York) · Thu 3 Dec 16:00 (you, Europe/Berlin)"
        )
        assert expected in page_text(signed_in.get(reply_url(consultation)))
        assert expected in page_text(signed_in.get(change_url(consultation)))
        changelist = reverse("admin:consultations_consultationrequest_changelist")
        assert expected in page_text(signed_in.get(changelist))

    def test_without_a_timezone_of_their_own_staff_see_utc_labelled(self, frozen, signed_in):
        consultation = booked()
        text = page_text(signed_in.get(reply_url(consultation)))
        assert "Thu 3 Dec 10:00 (visitor, America/New_York) · Thu 3 Dec 15:00 (you, UTC)" in text

    def test_staff_set_their_own_timezone(self, frozen, signed_in, triager):
        url = reverse("admin:consultations_consultationrequest_timezone")
        assert signed_in.get(url).status_code == 200
        signed_in.post(url, {"timezone": "Asia/Tokyo"})
        assert StaffTimezone.of(triager) == "Asia/Tokyo"
        response = signed_in.post(url, {"timezone": "Mars/Olympus"})
        assert "Choose a timezone from the list, for example Europe/Berlin." in page_text(response)
        assert StaffTimezone.of(triager) == "Asia/Tokyo"
        # The visitors' list, searchable, without the legacy aliases.
        page = signed_in.get(url).content.decode()
        assert '<datalist id="timezone-names">' in page and '"Europe/London"' in page
        assert '"GB-Eire"' not in page

"""A visitor books a consultation: the form, its rules, spam and the confirmation."""

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from compare_site.clients import client_ip
from consultations import services
from consultations.forms import BookingForm
from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    OutgoingEmail,
    PendingAddition,
    SpentFormToken,
    offered_timezone_names,
)
from tests.clock import FIXED_NOW
from tests.consultations.helpers import (
    booking_data,
    fixed_booking,
    local_input,
    rendered_token,
    weekday_slot,
    weekday_slots,
)
from tests.factories import make_comparison, make_consultation, make_staff
from tests.support.pages import page_text

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

BOOK_URL = reverse("consultations:book")


def errors_by_field(response):
    """{field name: message} for every field the page marks as invalid."""
    form = response.context["form"]
    return {name: " ".join(messages) for name, messages in form.errors.items()}


class TestBookingFromAComparisonPage:
    """A visitor in Berlin follows a comparison page's link and books three windows."""

    @pytest.fixture
    def comparison(self):
        return make_comparison(title="PyTorch vs TensorFlow", slug="pytorch-vs-tensorflow")

    @pytest.fixture
    def link(self, client, comparison):
        detail = client.get(comparison.get_absolute_url())
        return re.search(r'href="([^"]*book/\?comparison=[^"]*)"', detail.content.decode())[1]

    @pytest.fixture
    def windows(self):
        """Berlin wall-clock times; the third is on the next weekday ("the day after"
        may be a Saturday)."""
        first, next_day = weekday_slots(2, hour=9, tz="Europe/Berlin")
        return [first, first + timedelta(hours=2), next_day.replace(hour=16, minute=30)]

    @pytest.fixture
    def booked(self, client, link, windows, triager):
        """The booking's response; the triager exists first, to be told of it."""
        data = booking_data(
            comparison="pytorch-vs-tensorflow",
            topic="",
            timezone="Europe/Berlin",
            **{f"window_{n}": local_input(window) for n, window in enumerate(windows, start=1)},
        )
        return client.post(link, data)

    def test_the_link_opens_the_form_with_the_comparison_chosen(self, client, link):
        form_page = client.get(link)
        assert form_page.status_code == 200
        assert re.search(
            r'<input type="text" name="comparison" value="PyTorch vs TensorFlow"',
            form_page.content.decode(),
        )

    def test_booking_leads_to_the_requests_own_page(self, booked):
        request = ConsultationRequest.objects.get()
        assert booked.status_code == 302
        assert booked["Location"] == request.get_absolute_url()
        assert len(request.reference) == 10

    def test_the_request_keeps_the_comparison_and_the_time_zone(self, booked, comparison):
        request = ConsultationRequest.objects.get()
        assert request.comparison == comparison
        assert request.timezone == "Europe/Berlin"

    def test_the_windows_are_stored_in_utc(self, booked, windows):
        berlin = ZoneInfo("Europe/Berlin")
        request = ConsultationRequest.objects.get()
        assert [w.starts_at for w in request.windows.all()] == [
            window.replace(tzinfo=berlin).astimezone(UTC) for window in windows
        ]

    def test_the_reply_is_due_24_hours_after_receipt(self, booked):
        request = ConsultationRequest.objects.get()
        assert request.respond_by - request.received_at == timedelta(hours=24)

    def test_the_confirmation_page_shows_the_reference_and_the_reply_deadline(self, client, booked):
        request = ConsultationRequest.objects.get()
        text = page_text(client.get(booked["Location"]))
        assert request.reference in text
        assert f"We will reply by {request.respond_by_local()}" in text

    def test_the_reply_deadline_is_in_the_visitors_time_zone(self, booked):
        request = ConsultationRequest.objects.get()
        assert request.respond_by_local().endswith(("CET", "CEST"))

    def test_the_confirmation_page_repeats_the_booking(self, client, booked, windows):
        text = page_text(client.get(booked["Location"]))
        assert "Ada Lovelace" in text and "PyTorch vs TensorFlow" in text
        assert windows[0].strftime("%H:%M") in text

    def test_nothing_is_sent_inside_the_web_request(self, booked):
        assert mail.outbox == []
        assert OutgoingEmail.objects.filter(status="pending").count() == 2

    def test_the_worker_confirms_the_booking_to_the_visitor(self, booked):
        call_command("deliver_email", "--once", stdout=io.StringIO())
        request = ConsultationRequest.objects.get()
        [to_visitor] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
        assert request.reference in to_visitor.subject
        assert f"reply by\n{request.respond_by_local()}" in to_visitor.body

    def test_the_worker_tells_the_triager(self, booked, triager):
        call_command("deliver_email", "--once", stdout=io.StringIO())
        request = ConsultationRequest.objects.get()
        [to_staff] = [m for m in mail.outbox if m.to == [triager.email]]
        assert request.reference in to_staff.subject

    def test_the_emails_sent_for_it_are_not_a_first_response(self, booked):
        call_command("deliver_email", "--once", stdout=io.StringIO())
        assert ConsultationRequest.objects.get().first_response_at is None

    def test_the_form_on_its_own_has_no_comparison_chosen_and_defaults_to_utc(self, client):
        make_comparison(slug="some-comparison", title="Some comparison")
        body = client.get(BOOK_URL).content.decode()
        # Not listed (the catalogue is too large for a select), nor chosen.
        assert "Some comparison" not in body
        assert re.search(r'<input type="text" name="comparison"(?![^>]*value=)[^>]*>', body)
        assert 'data-suggest-url="/suggest/comparisons/"' in body
        assert re.search(
            r'<input type="text" name="timezone" value="UTC" list="timezone-names"', body
        )
        assert 'src="/static/js/booking.' in body and " defer" in body

    def test_the_form_is_never_cached(self, client):
        # Each copy carries its own CSRF token and signed render time.
        assert "no-store" in client.get(BOOK_URL)["Cache-Control"]

    def test_an_unpublished_comparison_is_not_offered(self, client):
        make_comparison(slug="draft-one", published=False)
        body = client.get(BOOK_URL + "?comparison=draft-one").content.decode()
        assert "draft-one" not in body

    def test_the_page_has_labels_consent_link_and_no_inline_script(self, client):
        body = client.get(BOOK_URL).content.decode()
        for field in ("name", "email", "company", "comparison", "topic", "message", "timezone"):
            assert f'for="id_{field}"' in body
        assert reverse("consultations:privacy") in body
        assert "<script>" not in body and "style=" not in body
        assert 'tabindex="-1"' in body and "Leave this field empty" in body
        assert client.get(reverse("consultations:privacy")).status_code == 200


class TestValidation:
    def test_bad_input_gets_a_message_by_the_field_and_keeps_the_rest(self, client):
        response = client.post(
            BOOK_URL,
            booking_data(email="not-an-address", window_1="2020-01-01T10:00", consent=""),
        )
        assert response.status_code == 400
        errors = errors_by_field(response)
        assert set(errors) == {"email", "window_1", "consent"}
        assert "at least 2 hours from now" in errors["window_1"]
        body = response.content.decode()
        assert 'value="Ada Lovelace"' in body
        assert "Which framework should we pick for our first model?" in body
        assert 'value="not-an-address"' in body
        assert "is-invalid" in body and "invalid-feedback" in body
        assert not ConsultationRequest.objects.exists()

    @pytest.mark.parametrize(
        ("slot", "message"),
        [
            ({"hour": 10, "minute": 15}, "on the hour or half hour"),
            ({"hour": 7, "minute": 30}, "between 08:00 and 17:30"),
            ({"hour": 17, "minute": 30}, None),
            ({"hour": 18}, "between 08:00 and 17:30"),
            ({"days_ahead": 40}, "within the next 4 weeks"),
        ],
    )
    def test_window_rules(self, client, slot, message):
        window = weekday_slot(**slot)
        response = client.post(BOOK_URL, booking_data(window_1=local_input(window)))
        if message is None:
            assert response.status_code == 302
        else:
            assert message in errors_by_field(response)["window_1"]

    def test_weekends_are_refused(self, client):
        day = timezone.now().date() + timedelta(days=3)
        while day.weekday() != 5:
            day += timedelta(days=1)
        saturday = datetime(day.year, day.month, day.day, 10)
        response = client.post(BOOK_URL, booking_data(window_2=local_input(saturday)))
        assert "weekday" in errors_by_field(response)["window_2"]

    def test_the_same_slot_twice_is_refused(self, client):
        data = booking_data()
        response = client.post(BOOK_URL, {**data, "window_3": data["window_1"]})
        assert "already offered" in errors_by_field(response)["window_3"]

    def test_windows_are_checked_in_the_visitors_timezone(self, client):
        # 08:00 in Tokyo is 23:00 UTC the day before: fine for the visitor.
        slot = weekday_slot(hour=8, tz="Asia/Tokyo")
        response = client.post(
            BOOK_URL,
            booking_data(
                timezone="Asia/Tokyo",
                window_1=local_input(slot),
                window_2=local_input(slot + timedelta(hours=1)),
            ),
        )
        assert response.status_code == 302
        first = ConsultationRequest.objects.get().windows.first()
        assert first.starts_at.hour == 23

    def test_a_time_skipped_by_the_clock_change_is_refused(self, client, time_machine):
        # Berlin jumps from 02:00 to 03:00 on 28 March 2027; seen from within the
        # booking horizon (a far date is refused as too far before anything else).
        time_machine.move_to(datetime(2027, 3, 22, 9, 0, tzinfo=UTC), tick=False)
        response = client.post(
            BOOK_URL, booking_data(timezone="Europe/Berlin", window_1="2027-03-28T02:30")
        )
        assert "does not exist in your timezone" in errors_by_field(response)["window_1"]

    def test_a_topic_or_comparison_is_needed(self, client):
        response = client.post(BOOK_URL, booking_data(topic=""))
        assert "Choose a comparison above" in errors_by_field(response)["topic"]

    def test_two_windows_are_needed(self, client):
        response = client.post(BOOK_URL, booking_data(window_2=""))
        assert "window_2" in errors_by_field(response)

    def test_the_timezone_is_typed_with_every_offered_name_in_a_list(self, client):
        # Without JavaScript the browser filters the list as the visitor types.
        body = client.get(BOOK_URL).content.decode()
        field = re.search(r'<input type="text" name="timezone"[^>]*>', body).group()
        assert 'list="timezone-names"' in field
        assert 'aria-describedby="id_timezone_helptext"' in field
        assert (
            'id="id_timezone_helptext"' in body and "Start typing a city in your timezone" in body
        )
        datalist = re.search(r'<datalist id="timezone-names">(.*?)</datalist>', body).group(1)
        listed = re.findall(r'<option value="([^"]+)"></option>', datalist)
        assert listed == list(offered_timezone_names())
        assert "America/New_York" in listed and "US/Eastern" not in listed

    @pytest.mark.parametrize(
        "typed", ["America/New_York", "america/new_york", "America/New York", " new york "]
    )
    def test_a_typed_timezone_is_accepted_as_its_listed_name(self, client, typed):
        response = client.post(BOOK_URL, booking_data(timezone=typed))
        assert response.status_code == 302
        consultation = ConsultationRequest.objects.get()
        assert consultation.timezone == "America/New_York"
        # The windows typed as 10:00 were read as 10:00 in New York.
        first = consultation.windows.first().starts_at
        assert first.astimezone(ZoneInfo("America/New_York")).hour == 10

    @pytest.mark.parametrize("typed", ["Nowhere/Special", "New Yrok", "US/Eastern", "Etc/GMT+5"])
    def test_a_timezone_not_in_the_list_is_refused_and_the_rest_kept(self, client, typed):
        response = client.post(BOOK_URL, booking_data(timezone=typed))
        assert response.status_code == 400
        assert errors_by_field(response) == {
            "timezone": "Choose a timezone from the list, for example Europe/Berlin."
        }
        body = response.content.decode()
        # The summary links to the field, which keeps what was typed, as do the others.
        assert 'href="#id_timezone"' in body
        assert f'<input type="text" name="timezone" value="{typed}"' in body
        assert 'value="Ada Lovelace"' in body and 'value="Analytical Ltd"' in body
        assert "Which framework should we pick for our first model?" in body
        assert not ConsultationRequest.objects.exists()

    @pytest.mark.parametrize(
        "garbage",
        ["x" * 10_000, "\x00", "2026-13-45T99:99", "../../etc/passwd", "' OR 1=1 --", "😀" * 50],
    )
    def test_garbage_in_any_field_gets_messages_not_a_crash(self, client, garbage):
        data = booking_data()
        for field in ("name", "email", "comparison", "message", "timezone", "window_1"):
            # Each post is a form shown afresh: a render token books only once.
            response = client.post(BOOK_URL, {**data, field: garbage, "rendered": rendered_token()})
            assert response.status_code in (302, 400), (field, response.status_code)
            if response.status_code == 400:
                assert field in errors_by_field(response)
        assert ConsultationRequest.objects.count() <= 1

    def test_what_visitors_type_is_escaped(self, client):
        evil = '<script>alert("x")</script>'
        response = client.post(BOOK_URL, booking_data(name=evil, message=evil, email="bad"))
        body = response.content.decode()
        assert evil not in body
        assert "&lt;script&gt;" in body
        response = client.post(BOOK_URL, booking_data(name=evil, message=evil), follow=True)
        assert evil not in response.content.decode()
        assert "&lt;script&gt;alert" in response.content.decode()


class TestSpam:
    def test_a_filled_honeypot_is_rejected_silently(self, client):
        response = client.post(BOOK_URL, booking_data(website="http://spam.example"))
        assert response.status_code == 302
        assert response["Location"] == reverse("consultations:thanks")
        assert "Thank you" in page_text(client.get(response["Location"]))
        assert not ConsultationRequest.objects.exists()
        assert not OutgoingEmail.objects.exists()

    def test_a_form_sent_back_too_fast_is_rejected_silently(self, client):
        response = client.post(BOOK_URL, booking_data(rendered=rendered_token(seconds_ago=1)))
        assert response["Location"] == reverse("consultations:thanks")
        assert not ConsultationRequest.objects.exists()

    def test_a_forged_render_time_is_rejected_silently(self, client):
        response = client.post(BOOK_URL, booking_data(rendered="12345:abc:forged"))
        assert response["Location"] == reverse("consultations:thanks")
        assert not ConsultationRequest.objects.exists()

    def test_the_form_itself_tells_a_bot_from_a_person(self):
        for bot in (
            {"website": " "},
            {"rendered": "12345:abc:forged"},
            {"rendered": rendered_token(seconds_ago=1)},
        ):
            form = BookingForm(booking_data(**bot))
            assert form.is_automated and not form.is_valid()
        person = BookingForm(booking_data())
        assert person.is_valid() and not person.is_automated

    @override_settings(CONSULTATION_MIN_FILL_SECONDS=0)
    def test_the_minimum_fill_time_is_a_setting(self, client):
        response = client.post(BOOK_URL, booking_data(rendered=rendered_token(seconds_ago=0)))
        assert response["Location"] != reverse("consultations:thanks")
        assert ConsultationRequest.objects.count() == 1


class TestRateLimits:
    @override_settings(CONSULTATION_BOOKINGS_PER_IP_HOUR=2)
    def test_per_client_ip(self, client):
        for number in range(2):
            response = client.post(BOOK_URL, booking_data(email=f"v{number}@example.com"))
            assert response.status_code == 302
        response = client.post(BOOK_URL, booking_data(email="v3@example.com"))
        assert response.status_code == 429
        assert "Too many bookings from your network" in page_text(response)
        assert ConsultationRequest.objects.count() == 2
        # Another address is not affected.
        other = client.post(
            BOOK_URL, booking_data(email="v4@example.com"), REMOTE_ADDR="203.0.113.9"
        )
        assert other.status_code == 302

    @override_settings(CONSULTATION_BOOKINGS_PER_EMAIL_HOUR=1)
    def test_per_email_address(self, client):
        first = client.post(BOOK_URL, booking_data(), REMOTE_ADDR="203.0.113.1")
        assert first.status_code == 302
        again = client.post(
            BOOK_URL, booking_data(email="ADA@example.com"), REMOTE_ADDR="203.0.113.2"
        )
        assert again.status_code == 429
        assert "Too many bookings for this email address" in page_text(again)

    @override_settings(CONSULTATION_BOOKINGS_PER_IP_HOUR=1)
    def test_a_forged_forwarded_for_header_does_not_escape_the_limit(self, client):
        client.post(BOOK_URL, booking_data(email="a@example.com"), HTTP_X_FORWARDED_FOR="1.1.1.1")
        response = client.post(
            BOOK_URL, booking_data(email="b@example.com"), HTTP_X_FORWARDED_FOR="2.2.2.2"
        )
        assert response.status_code == 429


class TestClientIp:
    def request(self, rf, forwarded=None):
        extra = {"REMOTE_ADDR": "10.0.0.5"}
        if forwarded is not None:
            extra["HTTP_X_FORWARDED_FOR"] = forwarded
        return rf.post("/", **extra)

    def test_remote_addr_by_default_whatever_the_header_says(self, rf):
        assert client_ip(self.request(rf, "198.51.100.7")) == "10.0.0.5"

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_one_trusted_proxy_takes_the_rightmost_entry(self, rf):
        forged_then_real = "6.6.6.6, 198.51.100.7"
        assert client_ip(self.request(rf, forged_then_real)) == "198.51.100.7"

    @override_settings(TRUSTED_PROXY_COUNT=2)
    def test_two_trusted_proxies_take_the_second_from_the_right(self, rf):
        assert client_ip(self.request(rf, "6.6.6.6, 198.51.100.7, 10.1.1.1")) == "198.51.100.7"

    @override_settings(TRUSTED_PROXY_COUNT=2)
    def test_too_few_entries_fall_back_to_remote_addr(self, rf):
        assert client_ip(self.request(rf, "198.51.100.7")) == "10.0.0.5"

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_garbage_is_not_an_address(self, rf):
        assert client_ip(self.request(rf, "not-an-ip")) is None

    def test_the_address_is_stored(self, client):
        client.post(BOOK_URL, booking_data(), REMOTE_ADDR="203.0.113.50")
        assert ConsultationRequest.objects.get().client_ip == "203.0.113.50"


class TestSameEmailTwice:
    def test_an_open_request_within_7_days_is_linked_not_counted_twice(self, client):
        client.post(BOOK_URL, booking_data())
        existing = ConsultationRequest.objects.get()
        queued = OutgoingEmail.objects.count()
        response = client.post(
            BOOK_URL, booking_data(email="Ada@Example.com", message="Also: which GPU?")
        )
        assert ConsultationRequest.objects.count() == 1
        assert OutgoingEmail.objects.count() == queued  # nothing new queued
        page = page_text(client.get(response["Location"]))
        assert "already has an open request" in page
        assert existing.reference in page
        note = existing.events.get(kind=AuditEvent.Kind.NOTE)
        assert note.actor is None and "Also: which GPU?" in note.note

    def test_a_closed_request_does_not_block_a_new_one(self, client):
        make_consultation(email="ada@example.com", status="declined")
        client.post(BOOK_URL, booking_data())
        assert ConsultationRequest.objects.count() == 2

    def test_an_open_request_older_than_7_days_does_not_block(self, client):
        make_consultation(
            email="ada@example.com", received_at=timezone.now() - timedelta(days=7, minutes=1)
        )
        client.post(BOOK_URL, booking_data())
        assert ConsultationRequest.objects.count() == 2

    def test_another_browser_with_the_same_address_learns_nothing(self, client):
        existing = make_consultation(email="ada@example.com", name="Ada Secret")
        response = client.post(BOOK_URL, booking_data(name="Mallory"), follow=True)
        text = page_text(response)
        assert "check your email" in text
        assert existing.reference not in text
        assert "Ada Secret" not in text and existing.message not in text


class TestConfirmationPage:
    def test_a_stranger_with_the_reference_sees_no_personal_details(self, client):
        request = make_consultation(name="Ada Secret", company="Secret Co")
        text = page_text(client.get(request.get_absolute_url()))
        assert request.reference in text
        assert "We will reply by" in text
        assert "Ada Secret" not in text and "Secret Co" not in text
        assert request.email not in text

    def test_internal_notes_and_status_never_reach_the_visitor(self, client):
        client.post(BOOK_URL, booking_data())
        request = ConsultationRequest.objects.get()
        request.add_note("Looks like a tyre-kicker", by=None)
        request.assign(to=make_staff("tess"), by=None)
        text = page_text(client.get(request.get_absolute_url()))
        assert "Ada Lovelace" in text
        assert "tyre-kicker" not in text and "tess" not in text

    def test_an_unknown_reference_is_a_plain_404(self, client):
        response = client.get(reverse("consultations:request", args=["NOSUCHREF1"]))
        assert response.status_code == 404
        assert "Traceback" not in response.content.decode()


class TestEmailAddress:
    """One mailbox, one spelling: what the limits, the open-request match and sending use."""

    @pytest.fixture(autouse=True)
    def fixed_clock(self, time_machine):
        time_machine.move_to(FIXED_NOW, tick=False)

    @pytest.mark.parametrize(
        ("address", "message"),
        [
            ('"ada\x07"@example.org', "invisible control character (U+0007)"),
            ('"ada\x1b[31m"@example.org', "invisible control character (U+001B)"),
            ("ada@exam\u200bple.org", "invisible formatting character (U+200B"),
            ("ada@elpmaxe\u202e.org", "invisible formatting character (U+202E"),
        ],
    )
    def test_control_characters_are_refused_next_to_the_field(self, client, address, message):
        response = client.post(BOOK_URL, fixed_booking(email=address))
        assert response.status_code == 400
        assert message in errors_by_field(response)["email"]
        assert not ConsultationRequest.objects.exists()
        assert not OutgoingEmail.objects.exists()

    @pytest.mark.parametrize(
        "address", ['"victim"@example.org', '"\\victim"@example.org', '"victim."@example.org']
    )
    def test_a_quoted_local_part_is_refused_with_a_clear_message(self, client, address):
        response = client.post(BOOK_URL, fixed_booking(email=address))
        assert response.status_code == 400
        assert "without quotation marks" in errors_by_field(response)["email"]
        assert 'value="Ada Lovelace"' in response.content.decode()  # the rest is kept
        assert not ConsultationRequest.objects.exists()

    @override_settings(CONSULTATION_BOOKINGS_PER_EMAIL_HOUR=2)
    def test_plus_tags_share_their_inbox_limit(self, client):
        for number, address in enumerate(["victim@example.org", "victim+1@example.org"]):
            response = client.post(
                BOOK_URL, fixed_booking(email=address), REMOTE_ADDR=f"198.51.100.{number + 1}"
            )
            assert response.status_code == 302
        third = client.post(
            BOOK_URL, fixed_booking(email="Victim+2@example.org"), REMOTE_ADDR="198.51.100.9"
        )
        assert third.status_code == 429
        assert ConsultationRequest.objects.count() == 2

    @override_settings(CONSULTATION_BOOKINGS_PER_EMAIL_HOUR=2)
    def test_no_spelling_of_one_inbox_gets_past_the_limit(self, client):
        spellings = [
            "victim@example.org",
            "VICTIM@Example.ORG",
            " victim@EXAMPLE.org ",
            '"victim"@example.org',
            '"\\victim"@example.org',
            '"\\v\\i\\c\\t\\i\\m"@example.org',
        ]
        for number, address in enumerate(spellings):
            client.post(
                BOOK_URL, fixed_booking(email=address), REMOTE_ADDR=f"198.51.100.{number + 1}"
            )
        # One request; the repeats folded into it or refused; one email to that inbox.
        request = ConsultationRequest.objects.get()
        assert request.email == "victim@example.org"
        assert OutgoingEmail.objects.filter(to__icontains="victim").count() == 1

    def test_the_domain_case_is_normalised_before_matching(self, client):
        client.post(BOOK_URL, fixed_booking(email="ada@example.com"))
        client.post(BOOK_URL, fixed_booking(email="Ada@EXAMPLE.COM", message="And the GPU?"))
        request = ConsultationRequest.objects.get()
        assert request.email == "ada@example.com"
        assert "And the GPU?" in request.events.get(kind=AuditEvent.Kind.NOTE).note


class TestDatesFarAway:
    """Every date is bounded by the booking horizon before any arithmetic: never a 500."""

    @pytest.fixture(autouse=True)
    def fixed_clock(self, time_machine):
        time_machine.move_to(FIXED_NOW, tick=False)

    @pytest.mark.parametrize("tz", ["America/Los_Angeles", "Pacific/Pago_Pago", "UTC"])
    @pytest.mark.parametrize("window", ["9999-12-31T23:30", "9999-12-31T10:00", "9999-12-30T16:00"])
    def test_year_9999_west_of_utc_is_a_message_by_the_field(self, client, tz, window):
        response = client.post(BOOK_URL, fixed_booking(timezone=tz, window_1=window))
        assert response.status_code == 400
        assert "within the next 4 weeks" in errors_by_field(response)["window_1"]
        assert f'value="{window}"' in response.content.decode()  # kept for correcting
        assert not ConsultationRequest.objects.exists()

    @pytest.mark.parametrize("tz", ["Asia/Tokyo", "Pacific/Kiritimati"])
    def test_year_1_east_of_utc_is_a_message_by_the_field(self, client, tz):
        response = client.post(BOOK_URL, fixed_booking(timezone=tz, window_1="0001-01-01T00:00"))
        assert response.status_code == 400
        assert "at least 2 hours from now" in errors_by_field(response)["window_1"]

    def test_the_horizon_holds_on_both_sides_of_the_edge_in_the_visitors_timezone(self, client):
        # FIXED_NOW is 01:00 in Los Angeles; 4 weeks on is Tuesday 22 December, 01:00 there.
        first = client.post(
            BOOK_URL,
            fixed_booking(timezone="America/Los_Angeles", window_1="2026-12-22T08:00"),
        )
        assert "within the next 4 weeks" in errors_by_field(first)["window_1"]
        last_day_ok = client.post(
            BOOK_URL,
            fixed_booking(timezone="America/Los_Angeles", window_1="2026-12-21T17:30"),
        )
        assert last_day_ok.status_code == 302


class TestRenderToken:
    """Each form shown books once, within CONSULTATION_FORM_MAX_AGE (4 hours)."""

    @pytest.fixture(autouse=True)
    def fixed_clock(self, time_machine):
        time_machine.move_to(FIXED_NOW, tick=False)
        return time_machine

    def test_a_token_books_once_and_a_reuse_keeps_the_input_with_a_fresh_token(
        self, client, fixed_clock
    ):
        data = fixed_booking()
        assert client.post(BOOK_URL, data).status_code == 302
        cache.clear()  # a cache outage or flush must not let the token book again
        again = client.post(BOOK_URL, {**data, "email": "grace@example.com", "name": "Grace"})
        assert again.status_code == 400
        assert "This form has already been sent once" in page_text(again)
        body = again.content.decode()
        assert 'value="Grace"' in body and 'value="grace@example.com"' in body
        fresh = re.search(r'name="rendered" value="([^"]+)"', body).group(1)
        assert fresh != data["rendered"]
        assert ConsultationRequest.objects.count() == 1
        # The visitor reads the message and sends the form again: it books.
        fixed_clock.shift(timedelta(seconds=30))
        resent = client.post(
            BOOK_URL, {**data, "email": "grace@example.com", "name": "Grace", "rendered": fresh}
        )
        assert resent.status_code == 302
        assert ConsultationRequest.objects.filter(email="grace@example.com").exists()

    def test_any_number_of_reuses_books_nothing_more(self, client):
        data = fixed_booking()
        for number in range(10):
            client.post(BOOK_URL, {**data, "email": f"v{number}@example.com"})
        assert ConsultationRequest.objects.count() == 1
        assert SpentFormToken.objects.count() == 1

    @pytest.mark.parametrize(
        ("age", "accepted"),
        [(timedelta(hours=4), True), (timedelta(hours=4, seconds=1), False)],
    )
    def test_a_token_older_than_the_maximum_age_asks_to_send_again(self, client, age, accepted):
        data = fixed_booking(rendered=rendered_token(seconds_ago=int(age.total_seconds())))
        response = client.post(BOOK_URL, data)
        if accepted:
            assert response.status_code == 302
            return
        assert response.status_code == 400
        assert "This form was open for more than 4 hours" in page_text(response)
        assert 'value="Ada Lovelace"' in response.content.decode()
        assert "Which framework should we pick" in response.content.decode()
        assert not ConsultationRequest.objects.exists()

    @override_settings(CONSULTATION_FORM_MAX_AGE=timedelta(hours=1))
    def test_the_maximum_age_is_a_setting(self, client):
        response = client.post(BOOK_URL, fixed_booking(rendered=rendered_token(seconds_ago=3601)))
        assert "open for more than 1 hour, so" in page_text(response)

    def test_the_same_token_booking_twice_at_once_saves_one(self):
        fields = {
            "name": "Ada",
            "email": "ada@example.com",
            "company": "",
            "comparison": None,
            "topic": "Choosing a framework",
            "message": "Which one?",
            "timezone": "UTC",
        }
        windows = [datetime(2026, 11, 26, 10, tzinfo=UTC), datetime(2026, 11, 26, 13, tzinfo=UTC)]
        services.book_consultation(fields=fields, windows=windows, form_nonce="n1")
        with pytest.raises(services.FormAlreadySent):
            services.book_consultation(
                fields={**fields, "email": "grace@example.com"}, windows=windows, form_nonce="n1"
            )
        assert list(ConsultationRequest.objects.values_list("email", flat=True)) == [
            "ada@example.com"
        ]

    def test_the_retention_run_forgets_tokens_older_than_the_maximum_age(self, fixed_clock):
        SpentFormToken.objects.create(
            nonce="old", used_at=FIXED_NOW - timedelta(hours=4, seconds=1)
        )
        SpentFormToken.objects.create(nonce="young", used_at=FIXED_NOW - timedelta(hours=4))
        out = io.StringIO()
        call_command("anonymise_requests", stdout=out)
        assert "Forgot 1 spent booking-form token(s)." in out.getvalue()
        assert list(SpentFormToken.objects.values_list("nonce", flat=True)) == ["young"]


def confirm_link(email):
    return re.search(r"https?://\S+/consultations/confirm/\S+/", email.body).group(0)


class TestSomeoneElsesAddress:
    """A booking with the address of an open request this browser did not send."""

    @pytest.fixture(autouse=True)
    def fixed_clock(self, time_machine):
        time_machine.move_to(FIXED_NOW, tick=False)
        return time_machine

    @pytest.fixture
    def owners_request(self):
        return make_consultation(
            email="ada@example.com",
            name="Ada Secret",
            message="Our own secret plans.",
            received_at=FIXED_NOW - timedelta(hours=1),
        )

    def stranger_books(self, **overrides):
        data = fixed_booking(name="Mallory", message="Mallory was here.", **overrides)
        return Client().post(BOOK_URL, data, follow=True)

    def test_the_page_shows_no_reference_and_the_request_is_unchanged(self, owners_request):
        response = self.stranger_books(email="ADA@example.com")
        assert response.redirect_chain == [(reverse("consultations:check_email"), 302)]
        text = page_text(response)
        assert "check your email" in text
        for secret in (owners_request.reference, "Ada Secret", "Our own secret plans."):
            assert secret not in response.content.decode()
        # Nothing new, nothing on the owner's request.
        assert ConsultationRequest.objects.get() == owners_request
        assert not owners_request.events.exists()
        owners_request.refresh_from_db()
        assert owners_request.message == "Our own secret plans."
        # The owner's address gets a link, and nothing the stranger wrote.
        email = OutgoingEmail.objects.get()
        assert email.to == "ada@example.com"
        assert owners_request.reference in email.subject
        assert "Mallory" not in email.body and "Mallory" not in email.subject
        assert confirm_link(email)

    def test_following_the_link_applies_the_booking_once(self, client, owners_request):
        self.stranger_books()
        url = confirm_link(OutgoingEmail.objects.get()).removeprefix(settings.SITE_URL)
        page = client.get(url)
        assert page.status_code == 200
        assert "Mallory was here." in page_text(page)
        assert not owners_request.events.exists()  # a GET (a mail scanner) changes nothing
        confirmed = client.post(url, follow=True)
        assert "we added it to your request" in page_text(confirmed)
        note = owners_request.events.get(kind=AuditEvent.Kind.NOTE)
        assert "Mallory was here." in note.note and "2026-11-26 10:00 UTC" in note.note
        assert "Confirmed by the address's owner" in note.note
        again = client.post(url, follow=True)
        assert "nothing to add" in page_text(again)
        assert owners_request.events.count() == 1
        assert not PendingAddition.objects.exists()

    def test_a_forged_or_lapsed_link_changes_nothing(self, client, owners_request, fixed_clock):
        self.stranger_books()
        url = confirm_link(OutgoingEmail.objects.get()).removeprefix(settings.SITE_URL)
        assert client.post(url[:-3] + "xx/").status_code == 404
        fixed_clock.shift(timedelta(days=7, seconds=1))
        assert client.post(url).status_code == 404
        assert not owners_request.events.exists()

    def test_a_request_closed_meanwhile_gets_nothing_added(self, client, owners_request):
        self.stranger_books()
        url = confirm_link(OutgoingEmail.objects.get()).removeprefix(settings.SITE_URL)
        owners_request.transition(ConsultationRequest.Status.DECLINED, by=None)
        response = client.post(url)
        assert "request is closed" in page_text(response)
        assert not owners_request.events.filter(kind=AuditEvent.Kind.NOTE).exists()

    def test_the_owners_own_browser_adds_at_once_and_sees_the_reference(self, client):
        client.post(BOOK_URL, fixed_booking())
        existing = ConsultationRequest.objects.get()
        response = client.post(BOOK_URL, fixed_booking(message="Also: which GPU?"), follow=True)
        assert existing.reference in page_text(response)
        assert "Also: which GPU?" in existing.events.get(kind=AuditEvent.Kind.NOTE).note
        assert not PendingAddition.objects.exists()

    def test_the_retention_run_deletes_additions_whose_link_lapsed(self, owners_request):
        PendingAddition.objects.create(
            request=owners_request, note="old", created_at=FIXED_NOW - timedelta(days=7, seconds=1)
        )
        PendingAddition.objects.create(
            request=owners_request, note="young", created_at=FIXED_NOW - timedelta(days=7)
        )
        out = io.StringIO()
        call_command("anonymise_requests", stdout=out)
        assert "Deleted 1 addition(s) nobody confirmed in time." in out.getvalue()
        assert list(PendingAddition.objects.values_list("note", flat=True)) == ["young"]

    def test_erasing_the_persons_data_erases_what_waits_for_confirmation(self, owners_request):
        self.stranger_books()
        services.erase_personal_data(email="ada@example.com", by=None)
        assert not PendingAddition.objects.exists()


class TestVisitorSession:
    @pytest.fixture(autouse=True)
    def fixed_clock(self, time_machine):
        time_machine.move_to(FIXED_NOW, tick=False)

    def test_a_session_cookie_planted_before_booking_is_not_the_one_that_shows_it(self):
        planted = SessionStore()
        planted.create()
        visitor, attacker = Client(), Client()
        for browser in (visitor, attacker):
            browser.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
        response = visitor.post(BOOK_URL, fixed_booking())
        assert response.status_code == 302
        assert visitor.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
        assert not SessionStore().exists(planted.session_key)
        assert "Ada Lovelace" in page_text(visitor.get(response["Location"]))
        assert "Ada Lovelace" not in page_text(attacker.get(response["Location"]))

    def test_a_visitors_session_lasts_12_hours(self, client):
        response = client.post(BOOK_URL, fixed_booking())
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        assert cookie["max-age"] == 12 * 60 * 60
        assert client.session.get_expiry_date() == FIXED_NOW + timedelta(hours=12)

    def test_staff_sign_in_lasts_the_same_working_day(self, client):
        make_staff("tess", group="Triage", password="a long triage password")
        response = client.post(
            reverse("admin:login"),
            {"username": "tess", "password": "a long triage password", "next": "/admin/"},
        )
        assert response.status_code == 302
        assert client.session.get_expiry_date() == FIXED_NOW + timedelta(hours=12)


class TestComparisonField:
    """The comparison is typed (with suggestions where JavaScript runs), not picked
    from a select of every published comparison (consultations.forms.ComparisonTitleField)."""

    @pytest.fixture
    def comparison(self):
        return make_comparison(title="PyTorch vs TensorFlow", slug="pytorch-vs-tensorflow")

    @pytest.mark.parametrize(
        "typed", ["PyTorch vs TensorFlow", "  pytorch   VS tensorflow ", "pytorch-vs-tensorflow"]
    )
    def test_a_title_in_any_case_or_the_slug_names_it(self, client, comparison, typed):
        response = client.post(BOOK_URL, booking_data(comparison=typed, topic=""))
        assert response.status_code == 302
        assert ConsultationRequest.objects.get().comparison == comparison

    def test_an_unknown_title_is_a_clear_error_and_is_kept(self, client, comparison):
        response = client.post(BOOK_URL, booking_data(comparison="PyTorch vs Caffe", topic=""))
        assert response.status_code == 400
        errors = errors_by_field(response)
        assert "We have no published comparison with that title" in errors["comparison"]
        assert 'value="PyTorch vs Caffe"' in response.content.decode()
        assert not ConsultationRequest.objects.exists()

    def test_an_unpublished_title_is_unknown(self, client):
        make_comparison(title="Draft comparison", published=False)
        response = client.post(BOOK_URL, booking_data(comparison="Draft comparison"))
        assert "comparison" in errors_by_field(response)

    def test_empty_with_a_topic_is_fine(self, client, comparison):
        response = client.post(BOOK_URL, booking_data(comparison="", topic="Vector databases"))
        assert response.status_code == 302
        assert ConsultationRequest.objects.get().comparison is None

    def test_the_page_does_not_list_the_catalogue(self, client):
        for number in range(30):
            make_comparison(title=f"Listed {number}")
        body = client.get(BOOK_URL).content.decode()
        assert "Listed" not in body
        assert (
            'list="comparison-suggestions"' in body
            and '<datalist id="comparison-suggestions">' in body
        )
        assert 'src="/static/js/suggest.' in body

    def test_the_picker_fills_in_the_topic_escaped(self, client):
        body = client.get(BOOK_URL, {"topic": 'PyTorch vs "JAX" <b>'}).content.decode()
        assert 'value="PyTorch vs &quot;JAX&quot; &lt;b&gt;"' in body

    @pytest.mark.parametrize("topic", ["x" * 201, "bad\x00topic", "a\u202eb"])
    def test_a_topic_the_form_would_refuse_is_not_filled_in(self, client, topic):
        response = client.get(BOOK_URL, {"topic": topic})
        assert response.status_code == 200
        assert response.context["form"].initial.get("topic") is None

"""A visitor in New York books a real free slot, follows the email's links to the status
page and moves it to another free slot; a busy team says so before booking;
a failed submit moves focus to the error summary. The server's clock is frozen at
FIXED_NOW (Tuesday 24 November 2026, 09:00 UTC); the consultant works Monday to
Friday 09:00–17:00 in London (UTC in November)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from consultations import services
from consultations.models import ConsultationRequest, SlotHold, offered_timezone_names
from tests.clock import FIXED_NOW
from tests.factories import make_consultant, make_consultation, make_hours, make_staff

from .booking import fill_details
from .test_request_status import link_in, visitor_emails

pytestmark = pytest.mark.browser

NEW_YORK = "America/New_York"
BOOK = "/consultations/book/"
TOPIC = "Choosing a deep learning framework"
BUSY = "We are busier than usual: expect a reply by Wednesday 25 November 2026, 06:30 EST."


def groups_made_by_the_migrations():
    """Live-server tests end with a flush, which erases the groups migrations made
    (see test_triager_journey.make_triage_group); these tests need only the names."""
    for name in ("Consultants", "Triage"):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def consultant(time_machine, settings):
    # The server (the live server's threads, in this process) reads the stopped
    # clock; timeouts here and in the browser run on monotonic clocks, never stopped.
    time_machine.move_to(FIXED_NOW, tick=False)
    settings.CONSULTATION_MIN_FILL_SECONDS = 0
    groups_made_by_the_migrations()
    return make_consultant(tz="Europe/London")


@pytest.fixture
def busy_team():
    """Two triagers, 32 first replies a day between them, and 40 requests waiting."""
    for name in ("tess", "trev"):
        make_hours(make_staff(name, group="Triage"))
    for _ in range(40):
        make_consultation(received_at=FIXED_NOW - timedelta(hours=1))


def test_a_visitor_in_new_york_books_a_real_free_slot(live_server, open_page, consultant):
    page = open_page("mobile", timezone_id=NEW_YORK)
    page.goto(live_server.url + BOOK)
    # The browser's timezone, detected by booking.js: the slots come in New York time.
    expect(page.get_by_label("Your timezone")).to_have_value(NEW_YORK)
    expect(page.locator(".slot-day").first.locator("summary")).to_have_text(
        "Tuesday 24 November (12 free)"
    )
    expect(page.get_by_text("busier than usual")).to_have_count(0)
    fill_details(page, topic=TOPIC)
    page.locator("summary", has_text="Wednesday 25 November").click()
    # 10:00 in New York is 15:00 UTC, inside the consultant's London hours.
    page.get_by_label("10:00, Wednesday 25 November").check()
    page.get_by_label("You may contact me by email").check()
    page.get_by_role("button", name="Request my free consultation").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    expect(page.get_by_text("Wednesday 25 November 2026, 10:00 EST")).to_be_visible()
    consultation = ConsultationRequest.objects.get()
    assert consultation.timezone == NEW_YORK
    hold = SlotHold.objects.get()
    assert (hold.consultant, hold.request) == (consultant, consultation)
    assert hold.starts_at == datetime(2026, 11, 25, 15, tzinfo=UTC)
    assert page.csp_errors == []

    # Later, in a fresh browser with no session: the confirmation's links are enough.
    visitor = open_page("mobile", timezone_id=NEW_YORK)
    confirmation = visitor_emails(consultation).first()
    visitor.goto(link_in(confirmation, "Follow your request", live_server))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Your consultation request")
    expect(visitor.locator(".request-status__state")).to_contain_text(
        "A person will reply by Wednesday 25 November 2026, 04:00 EST"
    )
    # Moving it: the same free slots as the booking form, in New York time.
    visitor.goto(link_in(confirmation, "Offer other times", live_server))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Offer other times")
    visitor.get_by_role("button", name="Send my new times").click()
    expect(visitor.get_by_text("Pick at least one time that suits you.")).to_be_visible()
    visitor.locator("summary", has_text="Thursday 26 November").click()
    visitor.get_by_label("11:30, Thursday 26 November").check()
    visitor.get_by_role("button", name="Send my new times").click()
    expect(visitor.get_by_role("status")).to_contain_text("we have your new times")
    expect(visitor.locator(".request-history")).to_contain_text("You offered new times.")
    assert visitor.csp_errors == []
    hold = SlotHold.objects.get()
    assert (hold.consultant, hold.request) == (consultant, consultation)
    assert hold.starts_at == datetime(2026, 11, 26, 16, 30, tzinfo=UTC)


def test_without_javascript_the_visitor_picks_a_timezone_and_books(
    live_server, open_page, consultant
):
    page = open_page("mobile", java_script_enabled=False)
    page.goto(live_server.url + BOOK)
    timezone = page.get_by_label("Your timezone")
    expect(timezone).to_have_value("UTC")
    # A text field the browser completes from the list of every offered name.
    expect(timezone).to_have_attribute("list", "timezone-names")
    names = page.locator("datalist#timezone-names option")
    expect(names).to_have_count(len(offered_timezone_names()))
    expect(page.locator(f'datalist#timezone-names option[value="{NEW_YORK}"]')).to_have_count(1)
    fill_details(page, topic=TOPIC)
    # A name not in the list is refused by the field, and nothing typed is lost.
    timezone.fill("New Yrok")
    page.locator("summary", has_text="Wednesday 25 November").click()
    page.get_by_label("15:00, Wednesday 25 November").check()
    page.get_by_label("You may contact me by email").check()
    page.get_by_role("button", name="Request my free consultation").click()
    message = "Choose a timezone from the list, for example Europe/Berlin."
    expect(page.locator("#div_id_timezone")).to_contain_text(message)
    expect(timezone).to_have_value("New Yrok")
    expect(page.get_by_label("Your name")).to_have_value("Ada Lovelace")
    assert not ConsultationRequest.objects.exists()
    timezone.fill(NEW_YORK)
    page.get_by_role("button", name="Show the times in this timezone").click()
    # The same form again, as typed, now in New York time.
    expect(page.get_by_label("Your name")).to_have_value("Ada Lovelace")
    expect(page.get_by_text("Please check")).to_have_count(0)
    page.locator("summary", has_text="Wednesday 25 November").click()
    page.get_by_label("10:00, Wednesday 25 November").check()
    page.get_by_label("You may contact me by email").check()
    page.get_by_role("button", name="Request my free consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    assert SlotHold.objects.get().starts_at == datetime(2026, 11, 25, 15, tzinfo=UTC)


def test_the_busy_team_says_so_before_and_after_booking(
    live_server, open_page, consultant, busy_team
):
    page = open_page("desktop", timezone_id=NEW_YORK)
    page.goto(live_server.url + BOOK)
    expect(page.locator("#busy-notice")).to_have_text(BUSY)
    fill_details(page, topic=TOPIC)
    page.get_by_label("06:00, Tuesday 24 November").check()
    page.get_by_label("You may contact me by email").check()
    page.get_by_role("button", name="Request my free consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    expect(page.get_by_text(BUSY)).to_be_visible()
    consultation = ConsultationRequest.objects.get(email="ada@example.com")
    assert consultation.respond_by == consultation.received_at + timedelta(hours=24)


def test_a_failed_submit_moves_focus_to_the_error_summary(live_server, open_page, consultant):
    page = open_page("mobile", timezone_id=NEW_YORK)
    page.goto(live_server.url + BOOK)
    fill_details(page, email="ada.example.com", topic=TOPIC)
    page.get_by_role("button", name="Request my free consultation").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Email address: Enter a valid email address.",
            "Times that suit you: Pick at least one time that suits you.",
            "Consent: Tick this box so that we may contact you about the call.",
        ]
    )
    summary.get_by_role("link", name="Times that suit you").click()
    # The link leads to the first slot (11:00 UTC is 06:00 in New York).
    expect(page).to_have_url(re.compile("#id_slots_2026-11-24T1100$"))
    expect(page.get_by_label("06:00, Tuesday 24 November")).to_be_focused()
    expect(page.get_by_label("What do you need to decide?")).to_contain_text("PyTorch")
    assert page.csp_errors == []


def test_booking_form_with_free_slots_passes_the_checks(live_server, audit, consultant, busy_team):
    audit(
        "booking-free-slots", lambda page: page.goto(f"{live_server.url}{BOOK}?timezone={NEW_YORK}")
    )

    def failed_submit(page):
        page.goto(f"{live_server.url}{BOOK}?timezone={NEW_YORK}")
        page.get_by_role("button", name="Request my free consultation").click()
        expect(page.locator("#error-summary")).to_be_visible()

    audit("booking-free-slots-errors", failed_submit)


def test_new_times_with_free_slots_pass_the_checks(live_server, audit, consultant):
    consultation = make_consultation(timezone=NEW_YORK)
    path = reverse("consultations:status_reschedule", args=[services.status_token(consultation)])

    def failed_submit(page):
        page.goto(live_server.url + path)
        page.get_by_role("button", name="Send my new times").click()
        expect(page.get_by_text("Pick at least one time that suits you.")).to_be_visible()

    audit("new-times-free-slots-errors", failed_submit)

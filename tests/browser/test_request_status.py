"""The 24-hour promise kept and shown: a triager replies from the request (which stops
the clock), a missed reply-by time sends one apology, and a visitor follows the links
in their emails to the status page and moves the consultation. The new pages are
checked like every other: axe-core and the Nu HTML Checker at 1280 and 390 px."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from consultations import invitations, services, tasks
from consultations.models import (
    AuditEvent,
    ConsultationRequest,
    OutgoingEmail,
    SavedReply,
    after_working_hours,
    format_local,
)
from tests.clock import at
from tests.factories import PASSWORD, make_staff

from .booking import fill_booking_form, free_slots
from .test_triager_journey import make_triage_group

pytestmark = pytest.mark.browser

VISITOR_TIMEZONE = "America/New_York"


def booked(*, received_at=None, windows=()):
    """A booking as the form makes it, with its confirmation in the outbox."""
    fields = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "topic": "Choosing a framework",
        "message": "We train vision models and must pick PyTorch or TensorFlow for mobile.",
        "timezone": VISITOR_TIMEZONE,
    }
    return services.book_consultation(
        fields=fields, windows=list(windows), now=received_at or timezone.now()
    ).request


def link_in(message, label, live_server):
    """The link after ``label`` in an email from the outbox, on the test's server."""
    match = re.search(re.escape(label) + r".*?(https?://\S+)", message.body)
    assert match, f"no {label!r} link in {message.subject!r}"
    return live_server.url + match.group(1).removeprefix(settings.SITE_URL)


def visitor_emails(consultation):
    return OutgoingEmail.objects.filter(to=consultation.email).order_by("pk")


def triage_member(username="tess"):
    group = make_triage_group()
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="consultations", codename__endswith="_savedreply"
        )
    )
    return make_staff(username, groups=[group], password=PASSWORD)


def sign_in(page, live_server, username="tess"):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_a_triager_replies_from_the_request_and_the_clock_stops(live_server, open_page):
    triage_member()
    SavedReply.objects.create(
        title="Offer a time", body="Thank you for your request. Does Thursday at 10:00 suit you?"
    )
    consultation = booked()
    assert consultation.first_response_at is None

    page = open_page("desktop")
    sign_in(page, live_server)
    page.goto(live_server.url + "/admin/consultations/consultationrequest/")
    page.get_by_role("link", name=consultation.reference).click()
    expect(page.locator(".field-reply_by_times")).to_contain_text(f"(visitor, {VISITOR_TIMEZONE})")
    page.get_by_role("link", name="Reply to the visitor").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reply to {consultation.reference}")
    expect(page.get_by_text(f"[{consultation.reference}]")).to_be_visible()
    page.get_by_role("link", name="Offer a time").click()
    reply = page.get_by_label("Your reply")
    expect(reply).to_have_value("Thank you for your request. Does Thursday at 10:00 suit you?")
    reply.fill(reply.input_value() + "\nOr Friday at 14:00.")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Your reply to {consultation.reference} is queued for sending."
    )
    expect(page.locator(".fieldBox.field-first_response_at .readonly")).not_to_have_text("-")

    consultation.refresh_from_db()
    assert consultation.first_response_at is not None
    assert consultation.status == ConsultationRequest.Status.CONTACTED
    event = consultation.events.get(kind=AuditEvent.Kind.REPLY)
    assert event.note.endswith("Or Friday at 14:00.")
    confirmation, sent = visitor_emails(consultation)
    assert sent.subject == f"Re: Your free consultation request [{consultation.reference}]"
    assert sent.in_reply_to == confirmation.message_id
    assert "Or Friday at 14:00." in sent.body

    # The visitor's status page, from the link in the reply, says so.
    visitor = open_page("mobile", timezone_id=VISITOR_TIMEZONE)
    visitor.goto(link_in(sent, "Your request:", live_server))
    expect(visitor.locator(".request-status__state")).to_contain_text("Replied.")
    expect(visitor.locator(".request-history")).to_contain_text("We replied by email.")
    expect(visitor.locator(".countdown")).to_be_hidden()


def test_a_breach_sends_the_apology_exactly_once(live_server, open_page):
    triager = triage_member()
    # The real clock, because the server and the browser keep it; frozen for the task.
    now = timezone.now().replace(second=0, microsecond=0)
    consultation = booked(received_at=now - timedelta(hours=25))
    with at(now) as clock:
        assert tasks.warn_due.call() == 1
        clock.shift(timedelta(minutes=1))  # the next minute's run finds it done
        assert tasks.warn_due.call() == 0
    apologies = visitor_emails(consultation).filter(subject__contains="sorry, we are late")
    assert apologies.count() == 1
    promised = after_working_hours(now, 4, VISITOR_TIMEZONE)
    promised_text = format_local(promised, VISITOR_TIMEZONE)
    (apology,) = apologies
    assert f"A person will reply by {promised_text}." in apology.body
    alert = OutgoingEmail.objects.get(to=triager.email, subject__startswith="Overdue")
    assert "apology promising a reply by" in alert.body

    page = open_page("mobile", timezone_id=VISITOR_TIMEZONE)
    page.goto(link_in(apology, "Your request:", live_server))
    state = page.locator(".request-status__state")
    expect(state).to_contain_text("We are late, and sorry.")
    expect(state).to_contain_text(f"A person will reply by {promised_text}")
    expect(page.locator(".request-history")).to_contain_text(
        f"we promised a reply by {promised_text}"
    )
    # Where JavaScript runs, a countdown to the new time.
    expect(page.locator(".countdown")).to_have_text(re.compile(r"^That is in .*(hour|minute)"))
    assert page.csp_errors == []


def test_the_visitor_follows_the_email_links_and_moves_the_consultation(
    live_server, open_page, settings
):
    settings.CONSULTATION_MIN_FILL_SECONDS = 0
    load_demo_content()
    triager = triage_member()
    page = open_page("mobile", timezone_id=VISITOR_TIMEZONE)
    page.goto(live_server.url + "/consultations/book/?comparison=pytorch-vs-tensorflow")
    fill_booking_form(page)
    page.get_by_role("button", name="Request my free consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    consultation = ConsultationRequest.objects.get()
    assert consultation.timezone == VISITOR_TIMEZONE
    first_window = consultation.windows.first().starts_at
    invitations.schedule_consultation(
        consultation=consultation,
        start=first_window,
        by=triager,
        location="https://meet.example/abc-defg",
    )
    slot_text = format_local(first_window, VISITOR_TIMEZONE)

    # A fresh browser, no session: the confirmation's link is enough.
    visitor = open_page("mobile", timezone_id=VISITOR_TIMEZONE)
    confirmation, invite = visitor_emails(consultation)
    visitor.goto(link_in(confirmation, "Follow your request", live_server))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Your consultation request")
    expect(visitor.locator(".request-status__state")).to_contain_text(
        f"Scheduled. Your consultation is booked for {slot_text}"
    )
    expect(visitor.get_by_role("link", name="Move the consultation")).to_be_visible()

    # Moving it, from the link in the invitation.
    visitor.goto(link_in(invite, "Or offer other times:", live_server))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Offer other times")
    new_time = free_slots(3, tz=VISITOR_TIMEZONE)[2]
    visitor.get_by_label("First choice").fill(new_time)
    visitor.get_by_role("button", name="Send my new times").click()
    expect(visitor.get_by_role("status")).to_contain_text("we have your new times")
    history = visitor.locator(".request-history")
    expect(history).to_contain_text(f"You cancelled the slot on {slot_text}.")
    expect(history).to_contain_text("You offered new times.")
    assert visitor.csp_errors == []

    consultation.refresh_from_db()
    assert consultation.status == ConsultationRequest.Status.CONTACTED
    assert consultation.visitor_changed_at is not None
    assert [
        w.starts_at.astimezone(timezone.get_fixed_timezone(0)) for w in consultation.windows.all()
    ]
    cancellation = visitor_emails(consultation).exclude(ics="").order_by("pk").last()
    assert "METHOD:CANCEL" in cancellation.ics
    assert OutgoingEmail.objects.filter(
        to=triager.email, subject=f"Visitor asked to move {consultation.reference}"
    ).exists()


# The new pages, checked at both widths.


def test_status_page(live_server, audit):
    consultation = booked()
    url = link_in(visitor_emails(consultation).first(), "Follow your request", live_server)
    page = audit("request-status", lambda page: page.goto(url))
    expect(page.locator(".countdown")).to_be_visible()


def test_status_cancel_page(live_server, audit):
    consultation = booked()
    url = link_in(visitor_emails(consultation).first(), "Cancel the request", live_server)
    page = audit("request-status-cancel", lambda page: page.goto(url))
    expect(page.get_by_role("button", name="Yes, cancel my request")).to_be_visible()


def test_new_times_page_with_an_error(live_server, audit):
    consultation = booked()
    url = link_in(visitor_emails(consultation).first(), "Offer other times", live_server)

    def visit(page):
        page.goto(url)
        page.get_by_role("button", name="Send my new times").click()
        page.wait_for_load_state()

    page = audit("request-new-times-errors", visit)
    expect(page.get_by_role("alert")).to_contain_text("Please check the field marked below")
    expect(page.get_by_label("First choice")).to_have_attribute("aria-invalid", "true")


def test_cancelled_slot_page(live_server, audit):
    triager = triage_member()
    now = timezone.now()
    start = (now + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    consultation = booked(windows=[start])
    invite = invitations.schedule_consultation(consultation=consultation, start=start, by=triager)
    invitations.cancel_by_visitor(consultation=consultation)
    url = link_in(invite, "Cancel the slot here:", live_server)
    page = audit("slot-cancelled", lambda page: page.goto(url))
    lead = page.locator(".lead")
    expect(lead).to_have_text(
        f"Your consultation slot on {format_local(start, VISITOR_TIMEZONE)} is cancelled. "
        "We will be in touch."
    )
    expect(page.get_by_text("nothing to cancel")).to_have_count(0)


def test_admin_reply_page(live_server, audit):
    triage_member()
    SavedReply.objects.create(title="Offer a time", body="Does Thursday at 10:00 suit you?")
    consultation = booked()

    def visit(page):
        sign_in(page, live_server)
        page.goto(
            live_server.url + f"/admin/consultations/consultationrequest/{consultation.pk}/reply/"
        )

    page = audit("admin-request-reply", visit)
    expect(page.get_by_label("Your reply")).to_be_visible()

"""A visitor reads the seed comparison, books a consultation, trips over a typo and fixes it."""

import re

import pytest
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from consultations.models import ConsultationRequest

from .booking import VISITOR_TIMEZONE, fill_booking_form

pytestmark = pytest.mark.browser


@pytest.fixture
def visitor_page(open_page, settings):
    # A person takes seconds to fill the form; the browser here takes less.
    settings.CONSULTATION_MIN_FILL_SECONDS = 0
    load_demo_content()
    return open_page("mobile", timezone_id=VISITOR_TIMEZONE)


def test_visitor_reads_the_comparison_and_books_a_consultation(live_server, visitor_page):
    page = visitor_page
    page.goto(live_server.url + "/")
    page.get_by_role(
        "link", name="PyTorch vs TensorFlow: Which Deep Learning Framework in 2026"
    ).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("PyTorch vs TensorFlow")
    expect(page.locator(".score-summary")).to_have_text(
        "Total score: PyTorch 3/5, TensorFlow 2/5, 0 ties"
    )

    page.get_by_role("link", name=re.compile("^Book a free 30-minute consultation")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a free 30-minute consultation")
    # The page knows where the visitor came from, and the browser's timezone.
    expect(page.get_by_label("Which comparison is it about?")).to_have_value(
        "PyTorch vs TensorFlow: Which Deep Learning Framework in 2026"
    )
    expect(page.get_by_label("Your timezone")).to_have_value(VISITOR_TIMEZONE)

    fill_booking_form(page, email="ada.example.com")
    page.get_by_role("button", name="Request my free consultation").click()

    expect(page.get_by_role("alert")).to_contain_text("Please check the field marked below")
    email = page.get_by_label("Email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    error = page.locator("#div_id_email .invalid-feedback")
    expect(error).to_have_text("Enter a valid email address.")
    # Everything else typed is kept.
    expect(page.get_by_label("Your name")).to_have_value("Ada Lovelace")
    expect(page.get_by_label("What do you need to decide?")).to_contain_text(
        "PyTorch or TensorFlow"
    )
    expect(page.get_by_label("Your timezone")).to_have_value(VISITOR_TIMEZONE)
    expect(page.get_by_label("First choice")).not_to_have_value("")
    expect(page.get_by_label("You may contact me by email")).to_be_checked()
    assert ConsultationRequest.objects.count() == 0

    email.fill("ada@example.com")
    page.get_by_role("button", name="Request my free consultation").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    consultation = ConsultationRequest.objects.get()
    expect(page.locator(".reference")).to_have_text(consultation.reference)
    expect(page.get_by_text("We will reply by")).to_contain_text(consultation.respond_by_local())
    expect(page.get_by_text("Times that suit you")).to_be_visible()
    assert consultation.timezone == VISITOR_TIMEZONE
    assert consultation.comparison.slug == "pytorch-vs-tensorflow"
    assert page.csp_errors == []

"""Each public page, checked at 1280 and 390 px by axe-core and the Nu HTML Checker."""

import re
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from comparisons.models import Framework, Participant, stale_statistic_year
from consultations.models import PendingAddition
from consultations.services import addition_token
from tests.factories import (
    make_comparison,
    make_consultation,
    make_framework,
    make_statistic,
    make_user,
)

from .booking import fill_booking_form

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-staple"


def test_home_page(live_server, audit):
    load_demo_content()
    audit("home", lambda page: page.goto(live_server.url + "/"))


def test_seed_comparison_page(live_server, audit):
    load_demo_content()
    page = audit(
        "comparison-pytorch-vs-tensorflow",
        lambda page: page.goto(live_server.url + "/compare/pytorch-vs-tensorflow/"),
    )
    assert page.get_by_role("heading", level=1).inner_text().startswith("PyTorch vs TensorFlow")


def test_three_way_comparison_page(live_server, audit):
    """With what the seed page lacks: versions, shown and stale statistics."""
    frameworks = [make_framework(name) for name in ("PyTorch", "TensorFlow", "JAX")]
    comparison = make_comparison(
        frameworks,
        title="PyTorch vs TensorFlow vs JAX",
        slug="pytorch-vs-tensorflow-vs-jax",
        subtitle="Three deep learning frameworks side by side.",
        factors=4,
    )
    pytorch, tensorflow, _ = comparison.participants.all()
    Participant.objects.filter(pk=pytorch.pk).update(
        version="2.10", version_as_of=date(2026, 3, 15)
    )
    Participant.objects.filter(pk=tensorflow.pk).update(version="2.16")
    make_statistic(comparison, value="78%", description="of new papers use PyTorch")
    old = stale_statistic_year() - 1
    make_statistic(comparison, value="40%", description="of mobile apps use TFLite", year=old)
    page = audit(
        "comparison-three-way",
        lambda page: page.goto(live_server.url + comparison.get_absolute_url()),
    )
    assert page.get_by_text("78%").is_visible()
    assert page.get_by_text("PyTorch 2.10, as of March 2026").is_visible()
    assert page.get_by_text(f"From {old}: may be out of date.").is_visible()


@pytest.mark.parametrize("width", ["desktop", "mobile"])
def test_score_cards_are_labelled_and_the_total_is_printed_once_on_a_phone(
    live_server, open_page, screenshot_dir, width
):
    load_demo_content()
    page = open_page(width)
    page.goto(live_server.url + "/compare/pytorch-vs-tensorflow/")
    contenders = page.get_by_role("list", name="Frameworks compared, with factors won")
    expect(contenders.get_by_role("listitem")).to_have_text(
        ["PyTorch 3 of 5 factors won Recommended", "TensorFlow 2 of 5 factors won"]
    )
    expect(contenders.get_by_text("3 of 5 factors won")).to_be_visible()
    expect(page.locator(".score-summary")).to_be_visible()
    total_row = page.get_by_role("row", name=re.compile("^Total Score"))
    if width == "mobile":
        # The table's total row and the summary line said the same, one under the other.
        expect(total_row).to_be_hidden()
        expect(
            page.get_by_text(re.compile("^Total score", re.I)).filter(visible=True)
        ).to_have_count(1)
    else:
        expect(total_row).to_be_visible()
    page.screenshot(path=screenshot_dir / f"score-cards-{width}.png", full_page=True)


def test_category_hub_page(live_server, audit):
    load_demo_content()
    page = audit(
        "category-hub", lambda page: page.goto(live_server.url + "/categories/technology/")
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Technology comparisons"


def test_picker_page_with_a_message(live_server, audit):
    load_demo_content()
    page = audit("picker-error", lambda page: page.goto(live_server.url + "/compare/?f=PyTorch"))
    assert page.get_by_role("alert").is_visible()


def test_no_comparison_yet_page(live_server, audit):
    load_demo_content()
    make_comparison([make_framework("JAX"), make_framework("Keras")])
    page = audit(
        "picker-no-comparison-yet",
        lambda page: page.goto(live_server.url + "/compare/?f=PyTorch&f=JAX"),
    )
    assert page.get_by_role(
        "link", name="Book a free consultation about PyTorch vs JAX"
    ).is_visible()


def test_booking_page(live_server, audit):
    load_demo_content()
    audit("booking-empty", lambda page: page.goto(live_server.url + "/consultations/book/"))


def test_unknown_category_page(live_server, audit):
    load_demo_content()
    page = audit(
        "home-unknown-category", lambda page: page.goto(live_server.url + "/?category=Nope")
    )
    assert page.get_by_text("There is no category with that name").is_visible()


def test_missing_page(live_server, audit):
    page = audit("not-found", lambda page: page.goto(live_server.url + "/compare/no-such-page/"))
    assert page.get_by_role("heading", level=1).inner_text() == "We could not find that page"
    assert page.get_by_role("link", name="See all comparisons").is_visible()


@pytest.fixture
def quick_form(settings):
    # A person takes seconds to fill the form; the browser here takes less.
    settings.CONSULTATION_MIN_FILL_SECONDS = 0


def submit_with_a_wrong_email(live_server):
    def visit(page):
        page.goto(live_server.url + "/consultations/book/?comparison=pytorch-vs-tensorflow")
        fill_booking_form(page, email="ada.example.com")
        page.get_by_role("button", name="Request my free consultation").click()
        page.wait_for_load_state()

    return visit


def test_booking_form_with_errors(live_server, audit, quick_form):
    load_demo_content()
    page = audit("booking-errors", submit_with_a_wrong_email(live_server))
    assert page.get_by_role("alert").is_visible()


def test_booking_confirmation_page(live_server, audit, quick_form):
    load_demo_content()
    # The audit books once per browser; each is its own visitor with their own
    # address (a second browser with the same one would be asked to check email).
    visitors = iter(["ada@example.com", "grace@example.com"])

    def visit(page):
        page.goto(live_server.url + "/consultations/book/?comparison=pytorch-vs-tensorflow")
        fill_booking_form(page, email=next(visitors))
        page.get_by_role("button", name="Request my free consultation").click()
        page.wait_for_url("**/consultations/requests/**")

    page = audit("booking-confirmation", visit)
    assert page.locator(".reference").is_visible()


def test_check_your_email_and_confirm_pages(live_server, audit, quick_form):
    """Someone books with the address of another browser's open request."""
    load_demo_content()
    owner = make_consultation(email="ada@example.com")

    def visit(page):
        page.goto(live_server.url + "/consultations/book/?comparison=pytorch-vs-tensorflow")
        fill_booking_form(page, email="ada@example.com")
        page.get_by_role("button", name="Request my free consultation").click()
        page.wait_for_url("**/consultations/book/check-your-email/")

    page = audit("booking-check-your-email", visit)
    assert owner.reference not in page.content()

    pending = PendingAddition.objects.filter(request=owner).first()
    confirm_url = reverse("consultations:confirm_addition", args=[addition_token(pending)])
    page = audit("booking-confirm-addition", lambda page: page.goto(live_server.url + confirm_url))
    assert page.get_by_role("button").count() >= 1


def test_methodology_page(live_server, audit):
    page = audit("methodology", lambda page: page.goto(live_server.url + "/methodology/"))
    assert page.get_by_role("heading", level=1).is_visible()


def sign_in(page, live_server, username):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_preview_of_a_draft(live_server, audit):
    make_user("editor", password=PASSWORD, is_staff=True, is_superuser=True)
    draft = make_comparison(title="Draft: PyTorch vs JAX", factors=2, published=False)

    def visit(page):
        sign_in(page, live_server, "editor")
        page.goto(live_server.url + draft.get_absolute_url())

    page = audit("comparison-preview", visit)
    assert "Preview: not public." in page.get_by_role("status").inner_text()


def test_staff_report_page(live_server, audit):
    make_user("triager", password=PASSWORD, is_staff=True, is_superuser=True)
    answered = make_consultation()
    answered.mark_contacted(by=None)
    make_consultation()

    def visit(page):
        sign_in(page, live_server, "triager")
        page.goto(live_server.url + "/consultations/staff/report/")

    page = audit("staff-report", visit)
    assert page.get_by_role("img", name=re.compile("answered within 24 hours")).is_visible()


def test_framework_page(live_server, audit):
    load_demo_content()
    pytorch = Framework.objects.get(slug="pytorch")
    make_comparison([pytorch, make_framework("JAX")], factors=3, title="PyTorch vs JAX")
    page = audit(
        "framework-pytorch", lambda page: page.goto(live_server.url + "/frameworks/pytorch/")
    )
    assert page.get_by_role("heading", level=1).inner_text() == "PyTorch"

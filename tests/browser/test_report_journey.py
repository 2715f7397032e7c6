"""A reader reports an out-of-date factor; an editor accepts it in the admin queue.

Also checks the new pages with axe-core and the Nu HTML Checker: the report
page (empty and with errors), the thank-you page, and the admin queue and a
report's own page.
"""

import importlib
import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from comparisons.models import AccuracyReport
from consultations.models import OutgoingEmail
from tests.factories import make_comparison, make_framework, make_staff, make_statistic

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-staple"


def make_editors_group():
    """The Editors group as migrations 0005, 0006 and 0008 leave it.

    Live-server tests end with a flush, which erases the rows migrations made
    (see make_triage_group in test_triager_journey.py).
    """
    content = importlib.import_module("comparisons.migrations.0006_editors_group")
    reports = importlib.import_module("comparisons.migrations.0009_editors_read_reports")
    codenames = [f"{a}_{m}" for m in content.EDITOR_MODELS for a in content.ACTIONS]
    codenames += ["publish_comparison", *reports.CODENAMES]
    group, _ = Group.objects.get_or_create(name="Editors")
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="comparisons", codename__in=codenames)
    )
    return group


@pytest.fixture
def quick_form(settings):
    # A person takes seconds to fill the form; the browser here takes less.
    settings.CONSULTATION_MIN_FILL_SECONDS = 0


@pytest.fixture
def comparison():
    frameworks = [make_framework(name) for name in ("PyTorch", "TensorFlow", "JAX")]
    comparison = make_comparison(
        frameworks,
        title="PyTorch vs TensorFlow vs JAX",
        slug="pytorch-vs-tensorflow-vs-jax",
        factors=3,
    )
    make_statistic(comparison, value="78%", description="of new papers use PyTorch")
    return comparison


def sign_in(page, live_server, username):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_a_readers_report_is_accepted_and_the_page_needs_review(
    live_server, open_page, quick_form, comparison
):
    make_editors_group()
    make_staff("eddie", group="Editors", password=PASSWORD)

    reader = open_page("mobile")
    reader.goto(live_server.url + comparison.get_absolute_url())
    reader.get_by_role("link", name="Is this still accurate? Factor 2", exact=True).click()
    expect(reader.get_by_role("heading", level=2, name="The factor “Factor 2”")).to_be_visible()
    expect(reader.get_by_text("TensorFlow is fine.")).to_be_visible()
    reader.get_by_label("What is wrong or out of date?").fill(
        "TensorFlow Lite is now LiteRT; the assessment names the old tool."
    )
    reader.get_by_label("A link that shows it (optional)").fill("ftp://example.org/notes")
    reader.get_by_label("Your email, if you would like a reply (optional)").fill(
        "reader@example.com"
    )
    reader.get_by_role("button", name="Send the report").click()
    # Refused with the reason, and nothing typed is lost.
    alert = reader.get_by_role("alert")
    expect(alert).to_contain_text("Your report was not sent.")
    expect(alert).to_contain_text("The link must start with http:// or https://.")
    expect(reader.get_by_label("What is wrong or out of date?")).to_have_value(
        "TensorFlow Lite is now LiteRT; the assessment names the old tool."
    )
    reader.get_by_label("A link that shows it (optional)").fill("https://ai.google.dev/edge/litert")
    reader.get_by_role("button", name="Send the report").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("Thank you for your report")
    assert AccuracyReport.objects.open().count() == 1

    editor = open_page("desktop")
    sign_in(editor, live_server, "eddie")
    editor.get_by_role("link", name="Comparisons", exact=True).first.click()
    row = editor.get_by_role("row", name=re.compile("PyTorch vs TensorFlow vs JAX"))
    expect(row).to_contain_text("Up to date")
    row.get_by_role("link", name="1", exact=True).click()
    expect(editor.locator("#result_list tbody tr")).to_have_count(1)
    expect(editor.locator("#result_list")).to_contain_text("Factor “Factor 2”")
    editor.locator("#result_list tbody tr th a").first.click()
    expect(editor.get_by_text("TensorFlow Lite is now LiteRT")).to_be_visible()
    editor.get_by_role("button", name="Accept: the page needs review").click()
    expect(editor.locator(".messagelist")).to_contain_text("Accepted 1 report.")

    editor.get_by_role("link", name="Comparisons", exact=True).first.click()
    row = editor.get_by_role("row", name=re.compile("PyTorch vs TensorFlow vs JAX"))
    expect(row).to_contain_text("Needs review: Reader report accepted")
    editor.get_by_role("link", name="Reader report accepted").click()
    expect(editor.locator("#result_list tbody tr")).to_have_count(1)

    report = AccuracyReport.objects.get()
    assert report.status == AccuracyReport.Status.ACCEPTED and report.email == ""
    reply = OutgoingEmail.objects.get()
    assert reply.to == "reader@example.com"
    assert "marked for review" in reply.body
    assert reader.csp_errors == [] and editor.csp_errors == []


def factor_report_url(live_server, comparison):
    factor = comparison.factors.order_by("position").first()
    return f"{live_server.url}{comparison.get_absolute_url()}factors/{factor.pk}/report/"


def test_report_page(live_server, audit, comparison):
    audit("report-factor", lambda page: page.goto(factor_report_url(live_server, comparison)))


def test_statistic_report_page(live_server, audit, comparison):
    statistic = comparison.statistics.get()
    url = f"{live_server.url}{comparison.get_absolute_url()}statistics/{statistic.pk}/report/"
    audit("report-statistic", lambda page: page.goto(url))


def test_report_page_with_errors(live_server, audit, quick_form, comparison):
    def visit(page):
        page.goto(factor_report_url(live_server, comparison))
        page.get_by_label("A link that shows it (optional)").fill("javascript:alert(1)")
        page.get_by_role("button", name="Send the report").click()
        page.wait_for_load_state()

    page = audit("report-errors", visit)
    expect(page.get_by_role("alert")).to_contain_text("Tell us what is wrong or out of date.")


def test_thank_you_page(live_server, audit, quick_form, comparison):
    def visit(page):
        page.goto(factor_report_url(live_server, comparison))
        page.get_by_label("What is wrong or out of date?").fill("The figure is from 2023.")
        page.get_by_role("button", name="Send the report").click()
        page.wait_for_url("**/report/thanks/")

    page = audit("report-thanks", visit)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your report")


def test_admin_queue_pages(live_server, audit, comparison):
    from comparisons.reports import submit_report

    make_editors_group()
    make_staff("eddie", group="Editors", password=PASSWORD)
    factor = comparison.factors.first()
    report = submit_report(
        comparison=comparison,
        target=factor,
        text="Out of date <b>since</b> 2025.",
        source_url="https://example.org/notes",
        email="reader@example.com",
    )
    submit_report(comparison=comparison, target=comparison.statistics.get(), text="Old figure.")

    def queue(page):
        sign_in(page, live_server, "eddie")
        page.goto(live_server.url + "/admin/comparisons/accuracyreport/?status__exact=open")

    def report_page(page):
        sign_in(page, live_server, "eddie")
        page.goto(f"{live_server.url}/admin/comparisons/accuracyreport/{report.pk}/change/")

    page = audit("admin-report-queue", queue)
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page = audit("admin-report", report_page)
    expect(page.get_by_text("Out of date <b>since</b> 2025.")).to_be_visible()

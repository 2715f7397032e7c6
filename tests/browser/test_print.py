"""The comparison page on paper: the print stylesheet (static/css/site.css, @media print)."""

import pytest

from comparisons.demo import load_demo_content
from comparisons.models import Comparison
from tests.factories import make_statistic

pytestmark = pytest.mark.browser


def test_the_printed_page_shows_the_content_and_writes_links_out(
    live_server, open_page, screenshot_dir
):
    load_demo_content()
    comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow")
    make_statistic(
        comparison,
        value="78%",
        description="of new papers use PyTorch",
        source_name="Papers Index",
        source_url="https://example.org/papers",
    )
    page = open_page("desktop")
    page.goto(live_server.url + comparison.get_absolute_url())
    assert not page.locator(".print-only").is_visible()  # on screen: no "printed from"
    page.emulate_media(media="print")

    for hidden in (".site-header nav", ".breadcrumb", ".cta", ".take-away", ".site-footer"):
        assert not page.locator(hidden).is_visible(), f"{hidden} is printed"
    assert page.locator(".report-link").count() > 0
    assert not any(link.is_visible() for link in page.locator(".report-link").all())

    for shown in (".factor-table", ".statistics", ".recommendation", ".choose-grid"):
        assert page.locator(shown).is_visible(), f"{shown} is not printed"
    assert page.get_by_role("heading", level=1).is_visible()
    printed_from = page.locator(".print-only")
    assert printed_from.is_visible()
    assert printed_from.inner_text().startswith("Printed from http")
    assert "the page as of" in printed_from.inner_text()

    source_link = page.locator(".statistic__source a")
    written_out = source_link.evaluate("link => getComputedStyle(link, '::after').content")
    assert "https://example.org/papers" in written_out
    # The site's own links (relative) are not written out.
    methodology = page.locator(".page-dates a").first
    assert methodology.evaluate("link => getComputedStyle(link, '::after').content") == "none"

    page.screenshot(path=screenshot_dir / "comparison-print.png", full_page=True)
    pdf = page.pdf(format="A4")
    (screenshot_dir / "comparison-print.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")

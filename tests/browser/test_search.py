"""A reader finds the seed page from the header's search box, typo and all, without
JavaScript; the results page passes axe and the HTML checker in each of its states."""

import pytest
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from comparisons.models import Framework
from comparisons.search import MAX_QUERY_LENGTH
from tests.factories import make_comparison, make_framework

pytestmark = pytest.mark.browser

SEED_TITLE = "PyTorch vs TensorFlow: Which Deep Learning Framework in 2026"


@pytest.mark.parametrize("width", ["desktop", "mobile"])
def test_a_typo_in_the_header_box_still_finds_the_seed_page(live_server, open_page, width):
    load_demo_content()
    page = open_page(width, java_script_enabled=False)
    page.goto(live_server.url + "/methodology/")
    search_box = page.get_by_role("search").get_by_label("Search comparisons and frameworks")
    expect(search_box).to_be_visible()
    search_box.fill("pytroch")
    search_box.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “pytroch”")
    expect(search_box).to_have_value("pytroch")
    result = page.get_by_role("heading", level=3, name=SEED_TITLE).get_by_role("link")
    # What the reader meant is marked in the result.
    expect(result.locator("mark")).to_have_text("PyTorch")
    result.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("PyTorch vs TensorFlow")
    assert page.url == live_server.url + "/compare/pytorch-vs-tensorflow/"


def search_for(live_server, query):
    def visit(page):
        page.goto(live_server.url + "/")
        page.get_by_label("Search comparisons and frameworks").fill(query)
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/search/?q=*")

    return visit


def test_results_page(live_server, audit):
    load_demo_content()
    page = audit("search-results", search_for(live_server, "tensor flow"))
    expect(page.get_by_role("heading", name="Frameworks")).to_be_visible()
    expect(page.get_by_role("link", name=SEED_TITLE)).to_have_count(2)


def test_no_results_page(live_server, audit):
    load_demo_content()
    page = audit("search-no-results", search_for(live_server, "cobol mainframe"))
    expect(page.get_by_text("No published comparison matches your search.")).to_be_visible()


def test_too_long_query_page(live_server, audit):
    load_demo_content()
    query = "deep learning " * (MAX_QUERY_LENGTH // 10)
    page = audit("search-too-long", search_for(live_server, query))
    expect(page.get_by_role("alert")).to_contain_text("at most 200 characters")


def test_empty_search_page(live_server, audit):
    load_demo_content()
    page = audit("search-empty", lambda page: page.goto(live_server.url + "/search/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")


def test_from_a_typo_to_the_framework_page_to_another_comparison(live_server, open_page):
    """Issue 14's journey: "pytroch" finds the seed page, whose PyTorch links to
    PyTorch's page, which leads on to another comparison that includes PyTorch."""
    load_demo_content()
    pytorch = Framework.objects.get(slug="pytorch")
    make_comparison([pytorch, make_framework("JAX")], factors=3, title="PyTorch vs JAX")
    page = open_page("desktop")
    page.goto(live_server.url + "/")
    page.get_by_label("Search comparisons and frameworks").fill("pytroch")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", level=3, name=SEED_TITLE).get_by_role("link").click()
    page.locator(".contenders").get_by_role("link", name="PyTorch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("PyTorch")
    expect(page.get_by_text("PyTorch won 2 of 3 factors against JAX")).to_be_visible()
    page.get_by_role("link", name="PyTorch vs JAX").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("PyTorch vs JAX")
    assert page.csp_errors == []

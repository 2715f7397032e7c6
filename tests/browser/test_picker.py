"""The compare picker and the booking form's comparison field, with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from tests.factories import make_comparison, make_framework

pytestmark = pytest.mark.browser

SEED_TITLE = "PyTorch vs TensorFlow: Which Deep Learning Framework in 2026"


@pytest.fixture(autouse=True)
def catalogue():
    load_demo_content()
    make_comparison([make_framework("JAX"), make_framework("Keras")], title="JAX vs Keras")


def pick(page, *names):
    labels = ["First framework", "Second framework", "Third framework (optional)"]
    for label, name in zip(labels, names, strict=False):
        page.get_by_label(label).fill(name)
    page.get_by_role("button", name="Find the comparison").click()


def test_with_javascript_names_are_suggested_and_the_pair_is_found(live_server, open_page):
    page = open_page("mobile")
    page.goto(live_server.url + "/")
    page.get_by_label("First framework").press_sequentially("tens")
    expect(page.locator("#framework-suggestions option")).to_have_attribute("value", "TensorFlow")
    page.get_by_label("First framework").fill("TensorFlow")
    page.get_by_label("Second framework").press_sequentially("PyT")
    expect(page.locator("#framework-suggestions option")).to_have_attribute("value", "PyTorch")
    page.get_by_label("Second framework").fill("PyTorch")
    page.get_by_role("button", name="Find the comparison").click()
    page.wait_for_url("**/compare/pytorch-vs-tensorflow/")
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)
    assert page.csp_errors == []


def test_without_javascript_the_server_finds_the_pair(live_server, open_page):
    page = open_page("mobile", java_script_enabled=False)
    page.goto(live_server.url + "/")
    pick(page, "TensorFlow", "PyTorch")
    page.wait_for_url("**/compare/pytorch-vs-tensorflow/")
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)


def test_without_javascript_a_mistake_is_explained_and_kept(live_server, open_page):
    page = open_page("desktop", java_script_enabled=False)
    page.goto(live_server.url + "/")
    pick(page, "PyTorch", "Pytroch")
    expect(page.get_by_role("alert")).to_contain_text("We have no comparison with “Pytroch” yet")
    expect(page.get_by_label("Second framework")).to_have_value("Pytroch")
    # The first input takes the focus, so the reader starts correcting at once.
    expect(page.get_by_label("First framework")).to_be_focused()


def test_no_comparison_yet_leads_to_a_consultation_about_them(live_server, open_page):
    page = open_page("mobile")
    page.goto(live_server.url + "/")
    pick(page, "PyTorch", "JAX")
    expect(page.get_by_role("heading", level=1)).to_have_text("No comparison of PyTorch vs JAX yet")
    page.get_by_role("link", name="Book a free consultation about PyTorch vs JAX").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a free 30-minute consultation")
    expect(page.get_by_label("Or the topic")).to_have_value("PyTorch vs JAX")
    expect(page.get_by_label("Which comparison is it about?")).to_have_value("")


def test_the_booking_form_suggests_comparison_titles(live_server, open_page):
    page = open_page("desktop")
    page.goto(live_server.url + "/consultations/book/")
    page.get_by_label("Which comparison is it about?").press_sequentially("jax")
    expect(page.locator("#comparison-suggestions option")).to_have_attribute(
        "value", "JAX vs Keras"
    )
    assert re.search(r"/static/js/suggest\.", page.content())
    assert page.csp_errors == []

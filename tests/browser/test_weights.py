"""A reader weighs the seed page: live with JavaScript, from a shared link, and without."""

import pytest
from playwright.sync_api import expect

from comparisons.demo import load_demo_content

pytestmark = pytest.mark.browser

SEED = "/compare/pytorch-vs-tensorflow/"
TENSORFLOW_LEADS = "With your weights, TensorFlow leads 6 to 3."


def weigh_mobile_first(page):
    page.get_by_role("combobox", name="Edge Mobile").select_option(label="Critical")
    page.get_by_role("combobox", name="Production Deployment").select_option(label="Critical")


def test_weights_change_the_leader_without_a_reload(live_server, open_page):
    load_demo_content()
    page = open_page("desktop")
    page.goto(live_server.url + SEED)
    result = page.locator("#weighted-result")
    expect(result).to_contain_text("PyTorch leads 3 to 2.")
    page.evaluate("window.notReloaded = true")
    # What the reader is looking at stays where it is: the controls and the result's top.
    control = page.get_by_role("combobox", name="Production Deployment")
    before = (control.bounding_box()["y"], result.bounding_box()["y"])

    weigh_mobile_first(page)
    expect(result).to_contain_text(TENSORFLOW_LEADS)
    expect(result).to_contain_text("PyTorch would lead if")
    assert page.evaluate("window.notReloaded") is True
    # The address now holds the weights, in their one spelling.
    assert page.url == (
        live_server.url + SEED + "?w=production-deployment:critical,edge-mobile:critical"
    )
    assert (control.bounding_box()["y"], result.bounding_box()["y"]) == before
    assert page.csp_errors == []

    # The decision record to take away holds the same view.
    link = page.get_by_role("link", name="Decision record (Markdown)")
    record = page.request.get(link.get_attribute("href"))
    assert record.ok
    text = record.text()
    assert TENSORFLOW_LEADS in text
    assert "| Edge Mobile | critical |" in text
    assert "| Developer Experience | normal |" in text

    # The shared address shows the same view to someone else.
    friend = open_page("mobile")
    friend.goto(page.url)
    expect(friend.locator("#weighted-result")).to_contain_text(TENSORFLOW_LEADS)
    expect(friend.get_by_role("combobox", name="Edge Mobile")).to_have_value("edge-mobile:critical")


def test_without_javascript_the_form_asks_the_server(live_server, open_page):
    load_demo_content()
    page = open_page("mobile", java_script_enabled=False)
    page.goto(live_server.url + SEED)
    weigh_mobile_first(page)
    page.get_by_role("button", name="Show my result").click()
    expect(page.locator("#weighted-result")).to_contain_text(TENSORFLOW_LEADS)
    assert page.url.endswith("?w=production-deployment:critical,edge-mobile:critical")


def test_weighted_page_checks(live_server, audit):
    load_demo_content()

    def visit(page):
        page.goto(live_server.url + SEED)
        weigh_mobile_first(page)
        expect(page.locator("#weighted-result")).to_contain_text(TENSORFLOW_LEADS)

    audit("comparison-weighted", visit)

"""An editor builds a three-way comparison in the admin and sees it on the public site."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from comparisons.models import Comparison, Framework
from tests.factories import make_framework, make_user
from tests.support.figures import record

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-staple"


def make_editor():
    editor = make_user("editor", password=PASSWORD, is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(content_type__app_label="comparisons"))
    return editor


class CountedEditor:
    """Drives the admin as an editor does, counting each click, field fill and
    choice, and every page the browser loads (popups included)."""

    def __init__(self, page):
        self.page = page
        self.actions = 0
        self.page_loads = 0
        # Every document the browser is sent, in the page or a popup (redirects aside).
        page.context.on("response", self._response)
        page.context.on("page", self._opened)

    def _response(self, response):
        if response.request.resource_type == "document" and not 300 <= response.status < 400:
            self.page_loads += 1

    def _opened(self, popup):
        popup.csp_errors = []
        popup.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and popup.csp_errors.append(message.text)
            ),
        )

    def fill(self, locator, value):
        locator.fill(value)
        self.actions += 1

    def click(self, locator):
        locator.click()
        self.actions += 1

    def choose(self, locator, label):
        locator.select_option(label=label)
        self.actions += 1


def test_editor_builds_a_three_way_comparison_in_one_save(live_server, open_page):
    make_editor()
    make_framework("PyTorch")
    make_framework("TensorFlow")
    page = open_page("desktop")
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Content and consultation requests")

    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    # Counted from the admin's home page, signed in.
    editor = CountedEditor(page)
    # "+ Add" beside Comparisons.
    editor.click(page.locator("#content-main a.addlink[href$='/comparisons/comparison/add/']"))
    editor.fill(page.get_by_label("Title:", exact=True), "JAX vs PyTorch vs TensorFlow")
    page.keyboard.press("Tab")  # on to the next field, as a person does; fills the slug
    expect(page.get_by_label("Slug:", exact=True)).to_have_value("jax-vs-pytorch-vs-tensorflow")
    editor.fill(page.get_by_label("Subtitle:", exact=True), "Three deep learning frameworks.")
    editor.fill(
        page.get_by_label("Quick verdict:", exact=True),
        "PyTorch for research, TensorFlow for mobile, JAX for TPUs.",
    )
    editor.fill(
        page.get_by_label("Meta description:", exact=True),
        "JAX, PyTorch and TensorFlow compared on six factors.",
    )

    # JAX is new: the "+" beside the framework opens the admin's popup; the page stays.
    with page.expect_popup() as popup_opened:
        editor.click(page.locator("#add_id_participants-0-framework"))
    popup = popup_opened.value
    editor.fill(popup.get_by_label("Name:", exact=True), "JAX")
    editor.click(popup.get_by_role("button", name="Save", exact=True))
    popup.wait_for_event("close")
    expect(page.locator("#id_participants-0-framework")).to_have_value(
        str(Framework.objects.get(name="JAX").pk)
    )
    editor.choose(page.locator("#id_participants-1-framework"), "PyTorch")
    editor.choose(page.locator("#id_participants-2-framework"), "TensorFlow")
    # The factor grid already names the frameworks chosen, before any save.
    expect(page.locator("#factors-0").get_by_label("PyTorch assessment:")).to_be_visible()

    factors = [
        ("Developer Experience", "PyTorch"),
        ("Edge Mobile", "TensorFlow"),
        ("Compilation", "JAX"),
        ("Research Adoption", "PyTorch"),
        ("Production Deployment", "TensorFlow"),
        ("Community", "Tie"),
    ]
    for row, (factor, winner) in enumerate(factors):
        if row >= 3:  # three blank factor blocks come with a new comparison
            editor.click(page.get_by_role("button", name="Add another Factor"))
        block = page.locator(f"#factors-{row}")
        editor.fill(block.get_by_label("Factor:", exact=True), factor)
        for framework in ("JAX", "PyTorch", "TensorFlow"):
            editor.fill(
                block.get_by_label(f"{framework} assessment:", exact=True),
                f"{framework} on {factor}.",
            )
        editor.choose(block.get_by_label("Winner:", exact=True), winner)

    statistics = [
        ("78%", "of new papers use PyTorch", "Papers with Code", "https://paperswithcode.com/"),
        ("35%", "of production models run TensorFlow", "Survey", "https://example.org/survey"),
    ]
    for row, (value, description, source, link) in enumerate(statistics):
        editor.click(page.get_by_role("button", name="Add another Statistic"))
        block = page.locator(f"#statistics-{row}")
        editor.fill(block.get_by_label("Value:", exact=True), value)
        editor.fill(block.get_by_label("Description:", exact=True), description)
        editor.fill(block.get_by_label("Source:", exact=True), source)
        editor.fill(block.get_by_label("Source link:", exact=True), link)
        editor.fill(block.get_by_label("Year:", exact=True), "2026")
    assert script_errors == []
    # Reordered without typing a number: the second statistic goes first.
    editor.click(page.locator("#statistics-1").get_by_role("button", name="Move up"))
    editor.choose(page.get_by_label("Status:", exact=True), "Published")
    editor.click(page.get_by_role("button", name="Save", exact=True))
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".messagelist .error")).to_have_count(0)

    record(
        "editor one sitting",
        f"editor builds a 3-framework, 6-factor, 2-statistic comparison: {editor.actions} "
        f"clicks and field fills, {editor.page_loads} page loads, 1 save",
    )
    comparison = Comparison.objects.get(slug="jax-vs-pytorch-vs-tensorflow")
    assert comparison.is_public
    assert [s.value for s in comparison.statistics.all()] == ["35%", "78%"]

    visitor = open_page("mobile")
    visitor.goto(live_server.url + comparison.get_absolute_url())
    expect(visitor.get_by_role("heading", level=1)).to_have_text("JAX vs PyTorch vs TensorFlow")
    expect(visitor.locator(".score-summary")).to_have_text(
        "Total score: JAX 1/6, PyTorch 2/6, TensorFlow 2/6, 1 tie"
    )
    expect(visitor.get_by_role("row", name=re.compile("^Compilation"))).to_contain_text(
        "JAX on Compilation."
    )
    assert page.csp_errors == [] and popup.csp_errors == [] and visitor.csp_errors == []
    assert script_errors == []


def test_without_javascript_a_comparison_is_built_and_published_in_one_save(live_server, open_page):
    make_editor()
    make_framework("PyTorch")
    make_framework("TensorFlow")
    page = open_page("desktop", java_script_enabled=False)
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/admin/comparisons/comparison/add/")
    page.get_by_label("Title:", exact=True).fill("PyTorch vs TensorFlow, no script")
    page.get_by_label("Slug:", exact=True).fill("pytorch-vs-tensorflow-no-script")
    page.get_by_label("Quick verdict:", exact=True).fill("PyTorch for research.")
    page.get_by_label("Meta description:", exact=True).fill("Two frameworks compared.")
    page.locator("#id_participants-0-framework").select_option(label="PyTorch")
    page.locator("#id_participants-1-framework").select_option(label="TensorFlow")
    # Without the script the labels name the rows; the third row stays blank.
    block = page.locator("#factors-0")
    block.get_by_label("Factor:", exact=True).fill("Debugging")
    block.get_by_label("Framework in row 1 assessment:", exact=True).fill("Eager, plain Python.")
    block.get_by_label("Framework in row 2 assessment:", exact=True).fill("Better since 2.0.")
    block.get_by_label("Winner:", exact=True).select_option(label="Framework in row 1")
    page.get_by_label("Status:", exact=True).select_option(label="Published")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow-no-script")
    assert comparison.is_public
    assert str(comparison.scoreboard()) == "PyTorch 1/1, TensorFlow 0/1, 0 ties"
    assert comparison.factors.get().assessments.count() == 2

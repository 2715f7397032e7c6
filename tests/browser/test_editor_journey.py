"""An editor builds a three-way comparison in the admin and sees it on the public site."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from tests.factories import make_framework, make_user

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-staple"


def make_editor():
    editor = make_user("editor", password=PASSWORD, is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(content_type__app_label="comparisons"))
    return editor


def choose_framework(page, row, name):
    """Pick a framework in an admin autocomplete (select2) widget, as a person does."""
    page.locator(f"#participants-{row} .select2-selection").click()
    page.locator(".select2-search__field").fill(name)
    page.locator(".select2-results__option", has_text=re.compile(f"^{name}$")).click()


def test_editor_publishes_a_three_way_comparison(live_server, open_page):
    make_editor()
    make_framework("PyTorch")
    make_framework("TensorFlow")
    page = open_page("desktop")

    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # JAX is new: the editor adds it as a framework first.
    page.get_by_role("link", name="Frameworks").click()
    page.get_by_role("link", name=re.compile("Add framework")).click()
    page.get_by_label("Name").fill("JAX")
    page.keyboard.press("Tab")
    page.get_by_label("Website").fill("https://jax.readthedocs.io")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.get_by_role("link", name="Comparisons", exact=True).first.click()
    page.get_by_role("link", name=re.compile("Add comparison")).click()
    page.get_by_label("Title:", exact=True).fill("PyTorch vs TensorFlow vs JAX")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Slug:", exact=True)).to_have_value("pytorch-vs-tensorflow-vs-jax")
    page.get_by_label("Subtitle:", exact=True).fill("Three deep learning frameworks side by side.")
    page.get_by_label("Quick verdict:", exact=True).fill(
        "PyTorch for research, TensorFlow for mobile."
    )
    choose_framework(page, 0, "PyTorch")
    choose_framework(page, 1, "TensorFlow")
    page.get_by_role("button", name="Add another Compared framework").click()
    choose_framework(page, 2, "JAX")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    factors = [
        ("Developer Experience", "PyTorch"),
        ("Edge Mobile", "TensorFlow"),
        ("Compilation", "JAX"),
    ]
    for row, (factor, winner) in enumerate(factors):
        page.get_by_role("button", name="Add another Factor").click()
        form = page.locator(f"#factors-{row}")
        form.get_by_label("Factor:", exact=True).fill(factor)
        for framework in ("PyTorch", "TensorFlow", "JAX"):
            form.get_by_label(f"{framework} assessment:", exact=True).fill(
                f"{framework} on {factor}."
            )
        form.get_by_label("Winner:", exact=True).select_option(label=winner)
    page.get_by_role("button", name="Add another Statistic").click()
    statistic = page.locator("#statistics-0")
    statistic.locator("[name='statistics-0-value']").fill("78%")
    statistic.locator("[name='statistics-0-description']").fill("of new papers use PyTorch")
    statistic.locator("[name='statistics-0-source_name']").fill("Papers with Code")
    statistic.locator("[name='statistics-0-source_url']").fill("https://paperswithcode.com/trends")
    statistic.locator("[name='statistics-0-year']").fill("2026")
    page.get_by_label("Status:", exact=True).select_option(label="Published")
    page.get_by_role("button", name="Save and continue editing").click()
    # Publishing checks the page is complete: the meta description is missing.
    refusal = page.locator(".messagelist .error")
    expect(refusal).to_contain_text("was saved as a draft, not published")
    expect(refusal).to_contain_text("It has no meta description for search engines.")

    # Until it is published, only editors see the page, marked as a preview.
    page.get_by_role("link", name="View on site").click()
    expect(page.get_by_role("status")).to_contain_text("Preview: not public.")
    expect(page.locator(".score-summary")).to_contain_text("PyTorch 1/3")
    page.go_back()

    page.get_by_label("Meta description:", exact=True).fill(
        "PyTorch, TensorFlow and JAX compared on developer experience, mobile and compilation."
    )
    page.get_by_label("Status:", exact=True).select_option(label="Published")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".messagelist .error")).to_have_count(0)

    visitor = open_page("mobile")
    visitor.goto(live_server.url + "/")
    visitor.get_by_role("link", name="PyTorch vs TensorFlow vs JAX").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("PyTorch vs TensorFlow vs JAX")
    expect(visitor.locator(".score-summary")).to_have_text(
        "Total score: PyTorch 1/3, TensorFlow 1/3, JAX 1/3, 0 ties"
    )
    expect(visitor.get_by_role("row", name=re.compile("^Edge Mobile"))).to_contain_text(
        "TensorFlow on Edge Mobile."
    )
    source = visitor.get_by_role("link", name="Papers with Code")
    expect(source).to_have_attribute("href", "https://paperswithcode.com/trends")
    expect(visitor.get_by_text("of new papers use PyTorch")).to_be_visible()
    assert page.csp_errors == [] and visitor.csp_errors == []

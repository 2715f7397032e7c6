"""The editors' admin pages, checked like the public ones: axe-core and the Nu HTML
Checker at 1280 and 390 px, no horizontal scrolling, no CSP error."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_comparison, make_framework, make_statistic, make_user
from tests.support.admin_forms import change_url

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(transactional_db):
    user = make_user("editor", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="comparisons"))
    return user


def signed_in(page, live_server, path):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto(live_server.url + path)


def three_way(**fields):
    frameworks = [make_framework(name) for name in ("JAX", "PyTorch", "TensorFlow")]
    comparison = make_comparison(frameworks, factors=4, statistics=1, **fields)
    make_statistic(comparison, source_url="")  # one still needing its source
    return comparison


def test_add_comparison_page(live_server, audit, editor):
    path = reverse("admin:comparisons_comparison_add")
    page = audit("admin-comparison-add", lambda page: signed_in(page, live_server, path))
    # Three framework rows and their assessments, before any save.
    expect(
        page.locator("#factors-0").get_by_label("Framework in row 3 assessment:")
    ).to_be_visible()


def test_change_comparison_page(live_server, audit, editor):
    comparison = three_way()
    page = audit(
        "admin-comparison-change",
        lambda page: signed_in(page, live_server, change_url(comparison)),
    )
    expect(page.get_by_role("link", name="View on site")).to_be_visible()
    # A framework's version and "as of" date share one line at 1280 px.
    page.set_viewport_size({"width": 1280, "height": 800})
    row = page.locator("#participants-0")
    version = row.get_by_label("Version:").bounding_box()
    as_of = row.get_by_label("As of:").bounding_box()
    assert as_of["x"] > version["x"] + version["width"]
    assert abs(as_of["y"] - version["y"]) < version["height"]


def test_refused_publication_message(live_server, audit, editor):
    comparison = three_way(published=False, meta_description="")

    def visit(page):
        signed_in(page, live_server, change_url(comparison))
        page.get_by_label("Status:", exact=True).select_option(label="Published")
        page.get_by_role("button", name="Save and continue editing").click()
        expect(page.locator(".messagelist .error")).to_be_visible()

    page = audit("admin-comparison-refused", visit)
    refusal = page.locator(".messagelist .error")
    expect(refusal).to_contain_text("was saved as a draft, not published. Fix one thing")
    expect(page.locator(".messagelist .success")).to_have_count(0)
    refusal.get_by_role("link", name="It has no meta description for search engines.").click()
    expect(page.get_by_label("Meta description:", exact=True)).to_be_in_viewport()


def test_comparison_list(live_server, audit, editor):
    three_way(title="JAX vs PyTorch vs TensorFlow: which in 2026")
    make_comparison(published=False, title="A draft")

    def visit(page):
        signed_in(page, live_server, reverse("admin:comparisons_comparison_changelist"))

    page = audit("admin-comparison-list", visit)
    page.set_viewport_size({"width": 1280, "height": 800})
    # Every column in view beside the filters: the table is not cut off.
    hidden = page.evaluate(
        "() => { const r = document.querySelector('#changelist .results');"
        " return r.scrollWidth - r.clientWidth; }"
    )
    assert hidden <= 0, f"the list's table is {hidden}px wider than its area"

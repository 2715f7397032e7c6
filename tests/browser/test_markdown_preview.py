"""An editor types Markdown into the quick verdict and sees it formatted beside the field."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_comparison, make_staff
from tests.support.admin_forms import change_url

from .checks import describe_violations
from .conftest import AXE_JS, WIDTHS

pytestmark = pytest.mark.browser

# Live-server tests end with a flush that erases the groups the migrations made,
# so the editor gets the Editors group's comparison permissions directly.
EDITOR_PERMISSIONS = [
    f"comparisons.{verb}_{model}"
    for model in ("comparison", "participant", "factor", "statistic")
    for verb in ("view", "change", "add", "delete")
]


def open_draft(page, live_server, draft):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("eddie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto(live_server.url + change_url(draft))


def verdict_preview(page):
    return page.locator(".field-quick_verdict").get_by_role("status", name="Preview")


@pytest.fixture
def draft(transactional_db):
    make_staff("eddie", permissions=EDITOR_PERMISSIONS)
    return make_comparison(published=False, quick_verdict="Pick PyTorch.")


def test_typed_markdown_shows_formatted_in_the_preview(live_server, open_page, draft):
    page = open_page("desktop")
    open_draft(page, live_server, draft)
    preview = verdict_preview(page)
    # The saved text is previewed as the page opens.
    expect(preview).to_have_text("Pick PyTorch.")

    page.get_by_label("Quick verdict:", exact=True).fill(
        "Pick **JAX** for TPUs. <script>document.title = 'owned'</script>"
    )
    expect(preview.locator("strong")).to_have_text("JAX")
    expect(preview).to_have_text("Pick JAX for TPUs.")
    assert page.title() != "owned"
    assert preview.locator("script").count() == 0

    page.get_by_label("Quick verdict:", exact=True).fill("")
    expect(preview).to_have_text("Nothing written yet.")
    assert page.csp_errors == []


def test_admin_page_with_a_preview_passes_axe(live_server, open_page, draft, screenshot_dir):
    page = open_page("desktop", bypass_csp=True)
    open_draft(page, live_server, draft)
    page.get_by_label("Quick verdict:", exact=True).fill("- **JAX**\n- [docs](https://jax.dev)")
    expect(verdict_preview(page).locator("li strong")).to_have_text("JAX")
    page.add_script_tag(path=str(AXE_JS))
    problems = []
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        violations = page.evaluate("async () => (await axe.run(document)).violations")
        problems += describe_violations(violations, f"axe admin change page {width}px")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator(".field-quick_verdict").screenshot(path=screenshot_dir / "markdown-preview.png")
    assert not problems, "\n".join(problems)


def test_without_javascript_the_form_is_unchanged(live_server, open_page, draft):
    page = open_page("desktop", java_script_enabled=False)
    open_draft(page, live_server, draft)
    assert page.locator(".markdown-preview").count() == 0
    page.get_by_label("Quick verdict:", exact=True).fill("Pick **JAX**.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    draft.refresh_from_db()
    assert draft.quick_verdict == "Pick **JAX**."

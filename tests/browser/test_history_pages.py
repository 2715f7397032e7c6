"""The comparison history pages in a real browser: the admin's own layout, clean for
axe-core and the Nu HTML Checker, and a restore that names and restores one version."""

import re
from datetime import timedelta

import pytest
import reversion
from django.contrib.auth.models import Permission
from django.db.models import F
from django.urls import reverse
from playwright.sync_api import expect
from reversion.models import Revision, Version

from comparisons.history import version_name
from comparisons.models import Factor
from tests.factories import PASSWORD, make_comparison, make_factor, make_framework, make_user

pytestmark = pytest.mark.browser

# The admin's --breadcrumbs-bg (#264b5d): the dark band above every admin page.
ADMIN_BREADCRUMBS_BACKGROUND = "rgb(38, 75, 93)"


def sign_in(page, live_server, username):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def save_version(comparison, user, comment):
    """Store the comparison as it is now as a version, as an admin save does."""
    with reversion.create_revision():
        reversion.add_to_revision(comparison)
        reversion.set_user(user)
        reversion.set_comment(comment)
    version = Version.objects.get_for_object(comparison).order_by("pk").last()
    # Editors' saves are minutes apart; these would share a second.
    Revision.objects.filter(pk=version.revision_id).update(
        date_created=F("date_created") + timedelta(minutes=version.revision_id)
    )
    return Version.objects.select_related("revision__user").get(pk=version.pk)


@pytest.fixture
def editor(transactional_db):
    """An editor with the comparisons permissions, given directly: live-server tests end
    with a flush that erases the Editors group the migrations made."""
    editor = make_user("editor", is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(content_type__app_label="comparisons"))
    return editor


@pytest.fixture
def speed_history(editor):
    """PyTorch vs TensorFlow, saved three times: Speed won by PyTorch, then a tie, then renamed."""
    comparison = make_comparison(
        [make_framework("PyTorch"), make_framework("TensorFlow")], title="PyTorch vs TensorFlow"
    )
    pytorch = comparison.participants.get(position=1)
    factor = make_factor(comparison, name="Speed", winner=pytorch)
    first = save_version(comparison, editor, "Added Speed.")
    Factor.objects.filter(pk=factor.pk).update(winner=None, is_tie=True)
    second = save_version(comparison, editor, "Speed is a tie.")
    Factor.objects.filter(pk=factor.pk).update(name="Training speed")
    save_version(comparison, editor, "Renamed Speed.")
    return comparison, first, second


def urls(comparison, first, second):
    diff = reverse("admin:comparisons_comparison_diff", args=[comparison.pk])
    return {
        "change": reverse("admin:comparisons_comparison_change", args=[comparison.pk]),
        "history": reverse("admin:comparisons_comparison_history", args=[comparison.pk]),
        "diff": f"{diff}?from={first.pk}&to={second.pk}",
        "restore": reverse("admin:comparisons_comparison_restore", args=[comparison.pk, first.pk]),
    }


def test_history_pages_have_the_admin_layout(live_server, open_page, editor, speed_history):
    page = open_page("desktop")
    sign_in(page, live_server, editor.username)
    addresses = urls(*speed_history)
    page.goto(live_server.url + addresses["change"])
    band = page.locator("nav[aria-label=Breadcrumbs] ol.breadcrumbs")
    change_page_band = band.evaluate("element => getComputedStyle(element).backgroundColor")
    assert change_page_band == ADMIN_BREADCRUMBS_BACKGROUND

    for name in ("history", "diff", "restore"):
        page.goto(live_server.url + addresses[name])
        background = band.evaluate("element => getComputedStyle(element).backgroundColor")
        assert background == change_page_band, name
        expect(band.locator("li[aria-current=page]")).to_be_visible()
        expect(band.get_by_role("link", name="PyTorch vs TensorFlow")).to_be_visible()
        expect(page.locator("#nav-sidebar")).to_be_attached()
        expect(page.locator("#content h1")).to_have_count(1)


@pytest.mark.parametrize("name", ["history", "diff", "restore"])
def test_history_pages_are_clean(live_server, audit, editor, speed_history, name):
    address = urls(*speed_history)[name]

    def visit(page):
        sign_in(page, live_server, editor.username)
        page.goto(live_server.url + address)

    audit(f"admin-comparison-{name}", visit)


def test_editor_restores_the_newer_of_two_compared_versions(
    live_server, open_page, editor, speed_history
):
    comparison, first, second = speed_history
    page = open_page("desktop")
    sign_in(page, live_server, editor.username)
    page.goto(live_server.url + urls(*speed_history)["history"])
    page.get_by_role("row", name=re.compile("Speed is a tie")).get_by_role(
        "link", name="What changed"
    ).click()
    # The arrow is hidden from screen readers, which hear ", now" instead.
    expect(page.locator(".change")).to_have_text(
        re.compile(r'Changed\s+Factor "Speed": winner: PyTorch →, now Tie')
    )

    newer = f"Restore the newer version, saved on {version_name(second)}"
    page.get_by_role("link", name=newer).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Restore the version saved on {version_name(second)}?"
    )
    expect(page.locator(".change")).to_have_text(
        re.compile(r"Renamed\s+Factor: Training speed →, now Speed")
    )
    page.get_by_role(
        "button", name=f"Yes, restore the version saved on {version_name(second)}"
    ).click()

    expect(page.locator(".messagelist")).to_contain_text(
        f"Restored the version saved on {version_name(second)}."
    )
    factor = comparison.factors.get()
    assert (factor.name, factor.is_tie) == ("Speed", True)

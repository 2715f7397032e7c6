"""Who may do what with comparisons: the role matrix, and the migration that sets it up."""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from comparisons.models import Comparison
from tests.factories import editors_group, make_comparison, make_staff
from tests.support.admin_forms import change_form_data, change_url

pytestmark = pytest.mark.django_db

COMPARISON_MODELS = ["comparison", "framework", "participant", "factor", "assessment", "statistic"]


@pytest.fixture
def signed_in(client, request):
    """``signed_in(role)``: sign ``client`` in as a person holding ``role`` (a persona
    of tests/conftest.py, or an editor whose group lacks the publish permission)."""

    def signed_in_(role):
        if role == "anonymous":
            return None
        if role == "editor without publish":
            group, _ = Group.objects.get_or_create(name="Junior editors")
            group.permissions.set(
                editors_group().permissions.exclude(codename="publish_comparison")
            )
            user = make_staff("junior", groups=[group])
        else:
            # The Triage group (consultations' migration) has no say over content.
            user = request.getfixturevalue({"triage": "triager"}.get(role, role))
        client.force_login(user)
        return user

    return signed_in_


def can_open(client, url):
    response = client.get(url)
    assert response.status_code in (200, 302, 403), response.status_code
    return response.status_code == 200


def can_change(client, comparison):
    data = change_form_data(comparison, subtitle="Changed by this role")
    client.post(change_url(comparison), data)
    comparison.refresh_from_db()
    return comparison.subtitle == "Changed by this role"


def can_publish(client, comparison):
    url = reverse("admin:comparisons_comparison_changelist")
    client.post(url, {"action": "publish", "_selected_action": [comparison.pk]})
    comparison.refresh_from_db()
    return comparison.status == Comparison.Status.PUBLISHED


# role: (sees the comparison admin, can add, can change, can publish)
MATRIX = {
    "anonymous": (False, False, False, False),
    "editor": (True, True, True, True),
    "editor without publish": (True, True, True, False),
    "triage": (False, False, False, False),
    "superuser": (True, True, True, True),
}


@pytest.mark.parametrize("role", MATRIX)
def test_role_matrix(client, role, signed_in):
    signed_in(role)
    comparison = make_comparison(published=False, factors=2)
    sees, adds, changes, publishes = MATRIX[role]
    assert can_open(client, reverse("admin:comparisons_comparison_changelist")) is sees
    assert can_open(client, reverse("admin:comparisons_comparison_add")) is adds
    assert can_change(client, comparison) is changes
    assert can_publish(client, comparison) is publishes


@pytest.mark.parametrize(
    ("role", "sees_requests"),
    [("editor", False), ("editor without publish", False), ("triage", True), ("superuser", True)],
)
def test_only_triage_and_superusers_see_consultation_requests(
    client, role, sees_requests, signed_in
):
    user = signed_in(role)
    assert user.has_module_perms("consultations") is sees_requests
    url = reverse("admin:consultations_consultationrequest_changelist")
    assert can_open(client, url) is sees_requests


class TestEditorsMigration:
    def test_editors_group_can_publish_after_migrating(self):
        editors = Group.objects.get(name="Editors")
        codenames = set(editors.permissions.values_list("codename", flat=True))
        assert "publish_comparison" in codenames
        # 0006_editors_group gives the content models; nothing about requests.
        assert {f"{verb}_{model}" for verb in ("add", "change") for model in COMPARISON_MODELS} <= (
            codenames
        )
        assert not editors.permissions.filter(content_type__app_label="consultations").exists()

    @pytest.mark.parametrize("group_first", [False, True])
    def test_runs_whether_or_not_the_group_exists_first(self, group_first):
        Group.objects.filter(name="Editors").delete()
        view = Permission.objects.get(codename="view_comparison")
        if group_first:
            Group.objects.create(name="Editors").permissions.add(view)
        migration = importlib.import_module("comparisons.migrations.0005_editors_can_publish")
        apps = (
            MigrationLoader(connection)
            .project_state(("comparisons", "0005_editors_can_publish"))
            .apps
        )

        migration.grant_publish(apps, None)
        migration.grant_publish(apps, None)  # twice changes nothing

        editors = Group.objects.get(name="Editors")
        codenames = set(editors.permissions.values_list("codename", flat=True))
        assert "publish_comparison" in codenames
        assert ("view_comparison" in codenames) is group_first

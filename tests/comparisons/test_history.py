"""Every admin save is a revision: who changed what, a readable diff, and a whole-page revert."""

import pytest
from django.urls import reverse
from reversion.models import Version

from comparisons.demo import load_demo_content
from comparisons.models import Comparison, Participant
from tests.factories import (
    make_comparison,
    make_factor,
    make_framework,
    make_staff,
    make_statistic,
)
from tests.support.admin_forms import assessment, change_form_data, change_url, management
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db


def snapshot(comparison):
    """Everything a visitor reads that lives in child rows."""
    comparison = Comparison.objects.get(pk=comparison.pk)
    return {
        "title": comparison.title,
        "choose_when": [(p.framework.name, p.choose_when) for p in comparison.participants.all()],
        "factors": [
            (
                f.name,
                f.is_tie,
                f.winner.framework.name if f.winner else None,
                sorted(a.text for a in f.assessments.all()),
            )
            for f in comparison.factors.all()
        ],
        "statistics": [(s.value, s.description, s.year) for s in comparison.statistics.all()],
    }


@pytest.fixture
def edited(admin_client):
    """A comparison saved once in the admin, then heavily edited in a second save."""
    comparison = make_comparison(
        [make_framework("PyTorch"), make_framework("TensorFlow")], factors=2, statistics=2
    )
    comparison.participants.filter(position=1).update(choose_when="Research\nPrototyping")
    original = change_form_data(comparison)
    assert admin_client.post(change_url(comparison), original).status_code == 302
    before = snapshot(comparison)

    edit = change_form_data(comparison, title="Rewritten title")
    edit["participants-0-choose_when"] = "Only this now"
    edit["factors-0-" + assessment(0)] = "Rewritten assessment"
    edit["factors-1-DELETE"] = "on"
    edit["statistics-0-DELETE"] = "on"
    edit["statistics-1-value"] = "99%"
    edit.update(management("statistics", 3, 2))
    edit.update(
        {
            "statistics-2-position": "3",
            "statistics-2-value": "7",
            "statistics-2-description": "new figure",
            "statistics-2-source_name": "New source",
            "statistics-2-source_url": "https://example.org/new",
            "statistics-2-year": "2026",
        }
    )
    assert admin_client.post(change_url(comparison), edit).status_code == 302
    after = snapshot(comparison)
    assert after != before
    assert len(after["factors"]) == 1 and len(after["statistics"]) == 2
    return comparison, original, before


def restore_url(comparison, version):
    return reverse("admin:comparisons_comparison_restore", args=[comparison.pk, version.pk])


def first_version(comparison):
    return Version.objects.get_for_object(comparison).order_by("pk").first()


class TestRestore:
    def test_restore_brings_back_the_page_with_its_child_rows(self, admin_client, client, edited):
        comparison, _, before = edited
        first = first_version(comparison)

        # The old version's date leads to its differences from the page now.
        history = admin_client.get(
            reverse("admin:comparisons_comparison_history", args=[comparison.pk])
        )
        diff_url = reverse("admin:comparisons_comparison_diff", args=[comparison.pk])
        assert f'href="{diff_url}?from={first.pk}"' in history.content.decode()
        page = admin_client.get(f"{diff_url}?from={first.pk}")
        assert "Restore this version" in page_text(page)
        assert snapshot(comparison)["title"] == "Rewritten title"  # looking changes nothing

        response = admin_client.post(restore_url(comparison, first))
        assert response.status_code == 302
        assert snapshot(comparison) == before
        text = page_text(client.get(comparison.get_absolute_url()))
        assert "Research" in text and "Prototyping" in text
        assert "Only this now" not in text and "new figure" not in text

    def test_restore_is_a_revision_and_a_content_change(self, admin_client, edited):
        comparison, _, _ = edited
        comparison.refresh_from_db()
        updated = comparison.content_updated_at
        admin_client.post(restore_url(comparison, first_version(comparison)))
        comparison.refresh_from_db()
        assert comparison.content_updated_at > updated
        latest = Version.objects.get_for_object(comparison).order_by("pk").last()
        assert latest.revision.user.username == "admin"
        assert latest.revision.get_comment().startswith("Restored the version saved on")

    def test_restore_keeps_the_publishing_state(self, admin_client, client, edited):
        comparison, _, _ = edited
        Comparison.objects.filter(pk=comparison.pk).update(status=Comparison.Status.DRAFT)
        admin_client.post(restore_url(comparison, first_version(comparison)))
        comparison.refresh_from_db()
        assert comparison.status == Comparison.Status.DRAFT
        assert client.get(comparison.get_absolute_url()).status_code == 404

    def test_restore_needs_a_post(self, admin_client, edited):
        comparison, _, _ = edited
        url = restore_url(comparison, first_version(comparison))
        assert admin_client.get(url).status_code == 405
        assert snapshot(comparison)["title"] == "Rewritten title"

    def test_revision_link_of_the_package_leads_to_the_diff(self, admin_client, edited):
        comparison, _, _ = edited
        first = first_version(comparison)
        url = reverse("admin:comparisons_comparison_revision", args=[comparison.pk, first.pk])
        response = admin_client.get(url)
        assert response.status_code == 302
        assert f"?from={first.pk}" in response["Location"]

    def test_restore_removes_a_framework_added_since_even_if_it_won_factors(self, admin_client):
        comparison = make_comparison(factors=2)
        admin_client.post(change_url(comparison), change_form_data(comparison))
        before = snapshot(comparison)
        # A third framework arrives and wins an existing factor and a new one.
        jax = Participant.objects.create(
            comparison=comparison, framework=make_framework("JAX"), position=3
        )
        comparison.factors.filter(position=1).update(winner=jax)
        make_factor(comparison, name="TPUs", winner=jax)
        make_statistic(comparison, value="1")

        response = admin_client.post(restore_url(comparison, first_version(comparison)))

        assert response.status_code == 302
        assert snapshot(comparison) == before
        assert not Participant.objects.filter(pk=jax.pk).exists()


class TestHistoryAndDiff:
    def test_history_says_who_saved_each_version(self, admin_client, edited):
        comparison, _, _ = edited
        response = admin_client.get(
            reverse("admin:comparisons_comparison_history", args=[comparison.pk])
        )
        text = page_text(response)
        assert text.count(" admin ") >= 3  # signed-in user, then one per version
        assert "First version" in text
        links = response.content.decode().count(">What changed</a>")
        assert links == 1

    def test_diff_lists_removed_and_added_lines(self, admin_client, edited):
        comparison, _, _ = edited
        old, new = Version.objects.get_for_object(comparison).order_by("pk")
        url = reverse("admin:comparisons_comparison_diff", args=[comparison.pk])
        response = admin_client.get(f"{url}?from={old.pk}&to={new.pk}")
        assert response.status_code == 200
        text = page_text(response)
        assert "Removed: Title: " in text
        assert "Added: Title: Rewritten title" in text
        assert "Added: Choose it when: Only this now" in text
        assert "Removed: Choose it when: Prototyping" in text
        assert "Added: PyTorch: Rewritten assessment" in text
        assert "Removed: - Factor 2 (winner: TensorFlow)" in text
        assert "Added: - 7 new figure (source: New source" in text

    def test_diff_of_a_version_from_another_comparison_is_404(self, admin_client, edited):
        comparison, _, _ = edited
        other = make_comparison()
        admin_client.post(change_url(other), change_form_data(other))
        foreign = Version.objects.get_for_object(other).get()
        own = Version.objects.get_for_object(comparison).first()
        url = reverse("admin:comparisons_comparison_diff", args=[comparison.pk])
        assert admin_client.get(f"{url}?from={foreign.pk}&to={own.pk}").status_code == 404


class TestRecoverDeleted:
    def test_publisher_recovers_a_deleted_comparison_with_its_rows(self, admin_client, client):
        comparison = make_comparison(factors=2, statistics=1)
        data = change_form_data(comparison)
        admin_client.post(change_url(comparison), data)
        before = snapshot(comparison)
        delete_url = reverse("admin:comparisons_comparison_delete", args=[comparison.pk])
        assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
        assert not Comparison.objects.filter(pk=comparison.pk).exists()

        (deleted,) = Version.objects.get_deleted(Comparison)
        recover_url = reverse("admin:comparisons_comparison_recover", args=[deleted.pk])
        assert admin_client.post(recover_url, data).status_code == 302
        assert snapshot(comparison) == before
        assert client.get(comparison.get_absolute_url()).status_code == 200

    def test_recovering_needs_the_publish_permission(self, client, admin_client):
        comparison = make_comparison(factors=1)
        admin_client.post(change_url(comparison), change_form_data(comparison))
        comparison.delete()
        (deleted,) = Version.objects.get_deleted(Comparison)
        models = ["comparison", "participant", "factor", "assessment", "statistic"]
        client.force_login(
            make_staff(
                "writer",
                permissions=[f"comparisons.{v}_{m}" for m in models for v in ("add", "change")],
            )
        )
        recover_url = reverse("admin:comparisons_comparison_recover", args=[deleted.pk])
        assert client.get(recover_url).status_code == 403
        assert not Comparison.objects.filter(pk=comparison.pk).exists()


def test_demo_content_starts_its_history_without_a_content_change():
    load_demo_content()
    comparison = Comparison.objects.get()
    (version,) = Version.objects.get_for_object(comparison)
    assert version.revision.get_comment() == "Demo content loaded."
    assert len(version.revision.version_set.all()) > 10  # with frameworks' rows and factors
    assert comparison.content_fingerprint and comparison.content_updated_at is None

"""Every admin save is a revision: who changed what, a readable diff, and a whole-page revert."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from reversion.models import Revision, Version

from comparisons.demo import load_demo_content
from comparisons.history import (
    SAVED_AT_FORMAT,
    Snapshot,
    changes_between,
    render_content_text,
    saved_at,
    version_name,
)
from comparisons.models import Comparison, Factor, Participant
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


def diff_url(comparison, old, new=None):
    url = reverse("admin:comparisons_comparison_diff", args=[comparison.pk])
    return f"{url}?from={old.pk}" + (f"&to={new.pk}" if new else "")


def history_url(comparison):
    return reverse("admin:comparisons_comparison_history", args=[comparison.pk])


def versions(comparison):
    return list(Version.objects.get_for_object(comparison).order_by("pk"))


def first_version(comparison):
    return versions(comparison)[0]


def seen_text(response):
    """The page as a sighted reader sees it: without the words only screen readers hear."""
    body = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", response.content.decode())
    response = type("Page", (), {"content": body.encode()})
    return page_text(response)


def changes(before, after):
    """The changes from snapshot ``before`` to ``after``, as the lines an editor reads."""
    return [str(change) for section in changes_between(before, after) for change in section.changes]


def save_in_admin(client, comparison, **overrides):
    """Save the comparison's change form (as it is, plus ``overrides``); its new version."""
    response = client.post(change_url(comparison), change_form_data(comparison, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return versions(comparison)[-1]


class TestRestore:
    def test_restore_brings_back_the_page_with_its_child_rows(self, admin_client, client, edited):
        comparison, _, before = edited
        first = first_version(comparison)

        # The old version's date leads to its differences from the page now,
        # which offer restoring it through its confirmation page.
        history = admin_client.get(history_url(comparison))
        assert f'href="{diff_url(comparison, first)}"' in history.content.decode()
        page = admin_client.get(diff_url(comparison, first))
        assert f'href="{restore_url(comparison, first)}"' in page.content.decode()
        assert f"Restore the version saved on {version_name(first)}" in page_text(page)
        confirmation = admin_client.get(restore_url(comparison, first))
        assert confirmation.status_code == 200
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

    def test_only_a_post_restores(self, admin_client, edited):
        comparison, _, _ = edited
        url = restore_url(comparison, first_version(comparison))
        assert admin_client.get(url).status_code == 200
        assert admin_client.put(url).status_code == 405
        assert snapshot(comparison)["title"] == "Rewritten title"

    def test_a_restore_without_the_csrf_token_is_refused(self, edited):
        comparison, _, _ = edited
        client = Client(enforce_csrf_checks=True)
        client.force_login(Version.objects.first().revision.user)
        url = restore_url(comparison, first_version(comparison))
        assert client.post(url).status_code == 403
        assert snapshot(comparison)["title"] == "Rewritten title"
        # The confirmation page's own form carries the token and restores.
        page = client.get(url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
        assert client.post(url, {"csrfmiddlewaretoken": token[1]}).status_code == 302
        assert snapshot(comparison)["title"] != "Rewritten title"

    def test_restoring_needs_the_change_permission(self, client, edited):
        comparison, _, _ = edited
        client.force_login(make_staff("reader", permissions=["comparisons.view_comparison"]))
        first = first_version(comparison)
        page = client.get(diff_url(comparison, first))
        assert page.status_code == 200
        assert restore_url(comparison, first) not in page.content.decode()
        assert client.get(restore_url(comparison, first)).status_code == 403
        assert client.post(restore_url(comparison, first)).status_code == 403
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

    def test_diff_names_each_changed_value_and_each_added_or_removed_row(
        self, admin_client, edited
    ):
        comparison, _, _ = edited
        old, new = versions(comparison)
        response = admin_client.get(diff_url(comparison, old, new))
        assert response.status_code == 200
        text = seen_text(response)
        old_title = Snapshot.of_version(old).comparison.title
        assert f"Changed Title: {old_title} → Rewritten title" in text
        assert 'Removed Framework "PyTorch": choose it when: Prototyping' in text
        assert 'Removed Framework "PyTorch": choose it when: Research' in text
        assert 'Added Framework "PyTorch": choose it when: Only this now' in text
        assert (
            'Changed Factor "Factor 1": PyTorch assessment: PyTorch is fine. → Rewritten assessment'
            in text
        )
        assert 'Removed Factor "Factor 2" winner: TensorFlow' in text
        assert 'Changed Statistic "of teams surveyed use it": value: 42% → 99%' in text
        assert 'Added Statistic "new figure" value: 7' in text
        # Nothing else: an unchanged factor's name and winner are not listed, and the
        # statistic renumbered after the first one went has not moved on the page.
        assert 'Factor "Factor 1": winner' not in text
        assert "position" not in text and "reordered" not in text.lower()
        assert "Renamed" not in text

    def test_diff_says_in_words_what_each_change_is(self, admin_client, edited):
        comparison, _, _ = edited
        old, new = versions(comparison)
        body = admin_client.get(diff_url(comparison, old, new)).content.decode()
        # Not colour alone: a visible word for the kind, and words for the arrow.
        assert '<span class="change__kind">Changed</span>' in body
        assert '<span class="change__kind">Removed</span>' in body
        assert '<span aria-hidden="true">→</span><span class="visually-hidden">, now</span>' in body
        assert "<h2>Factors</h2>" in body and "<h2>Statistics</h2>" in body

    def test_diff_of_a_version_from_another_comparison_is_404(self, admin_client, edited):
        comparison, _, _ = edited
        other = make_comparison()
        admin_client.post(change_url(other), change_form_data(other))
        foreign = Version.objects.get_for_object(other).get()
        own = Version.objects.get_for_object(comparison).first()
        url = reverse("admin:comparisons_comparison_diff", args=[comparison.pk])
        assert admin_client.get(f"{url}?from={foreign.pk}&to={own.pk}").status_code == 404
        assert admin_client.get(restore_url(comparison, foreign)).status_code == 404
        assert admin_client.post(restore_url(comparison, foreign)).status_code == 404


class TestFieldAwareDiff:
    """Rows are matched by identity, so a changed value reads "label: old → new"."""

    @pytest.fixture
    def speed(self, admin_client):
        pytorch, tensorflow = make_framework("PyTorch"), make_framework("TensorFlow")
        comparison = make_comparison([pytorch, tensorflow], factors=0)
        participants = list(comparison.participants.all())
        factor = make_factor(comparison, participants, name="Speed", winner=participants[0])
        return comparison, factor, save_in_admin(admin_client, comparison)

    def test_a_winner_change_reads_as_one_change(self, admin_client, speed):
        comparison, factor, before = speed
        Factor.objects.filter(pk=factor.pk).update(winner=None, is_tie=True)
        after = save_in_admin(admin_client, comparison)

        lines = changes(Snapshot.of_version(before), Snapshot.of_version(after))

        assert lines == ['Factor "Speed": winner: PyTorch → Tie']
        text = seen_text(admin_client.get(diff_url(comparison, before, after)))
        assert 'Changed Factor "Speed": winner: PyTorch → Tie' in text
        assert "Added" not in text.split("Restore a version")[0]

    def test_a_renamed_factor_reads_as_a_rename(self, admin_client, speed):
        comparison, factor, before = speed
        Factor.objects.filter(pk=factor.pk).update(name="Training speed")
        after = save_in_admin(admin_client, comparison)

        lines = changes(Snapshot.of_version(before), Snapshot.of_version(after))

        assert lines == ["Factor renamed: Speed → Training speed"]
        text = seen_text(admin_client.get(diff_url(comparison, before, after)))
        assert "Renamed Factor: Speed → Training speed" in text
        assert "Removed" not in text and "Added" not in text

    def test_factors_put_in_another_order_read_as_one_reordering(self, admin_client, speed):
        comparison, factor, before = speed
        make_factor(comparison, name="Memory", is_tie=True, position=2)
        middle = save_in_admin(admin_client, comparison)
        Factor.objects.filter(pk=factor.pk).update(position=3)
        after = save_in_admin(admin_client, comparison)

        assert changes(Snapshot.of_version(middle), Snapshot.of_version(after)) == [
            "Factors reordered: Speed, Memory → Memory, Speed"
        ]
        text = seen_text(admin_client.get(diff_url(comparison, middle, after)))
        assert "Reordered Factors: Speed, Memory → Memory, Speed" in text
        # Adding Memory after Speed moved nothing.
        assert changes(Snapshot.of_version(before), Snapshot.of_version(middle))[0] == (
            'Added: Factor "Memory"'
        )

    def test_a_new_recommendation_and_a_replaced_framework(self, admin_client, speed):
        comparison, _, before = speed
        pytorch, tensorflow = comparison.participants.all()
        Participant.objects.filter(pk=pytorch.pk).update(is_recommended=True)
        Participant.objects.filter(pk=tensorflow.pk).update(framework=make_framework("JAX"))

        lines = changes(Snapshot.of_version(before), Snapshot.of_page(comparison))

        assert lines == [
            'Framework "PyTorch": recommended: no → yes',
            "Framework renamed: TensorFlow → JAX",
        ]

    def test_a_new_factor_and_a_removed_one_read_as_such(self, admin_client, speed):
        comparison, factor, before = speed
        factor.delete()
        make_factor(comparison, name="Memory", is_tie=True, position=1)
        after = save_in_admin(admin_client, comparison)

        (section,) = changes_between(Snapshot.of_version(before), Snapshot.of_version(after))

        assert section.title == "Factors"
        assert [str(change) for change in section.changes] == [
            'Added: Factor "Memory"',
            'Removed: Factor "Speed"',
        ]
        assert dict(section.changes[0].details)["winner"] == "Tie"
        assert dict(section.changes[1].details)["PyTorch assessment"] == "PyTorch is fine."

    def test_an_unchanged_page_has_no_changes(self, admin_client, speed):
        comparison, _, before = speed
        assert changes_between(Snapshot.of_version(before), Snapshot.of_page(comparison)) == []
        text = page_text(admin_client.get(diff_url(comparison, before)))
        assert "The two have the same content." in text

    def test_the_fingerprinted_text_is_what_it_always_was(self, speed):
        """The content fingerprint hashes this text: a change would re-date every page."""
        comparison, _, version = speed
        snapshot_ = Snapshot.of_version(version)
        assert snapshot_.text() == render_content_text(
            comparison,
            snapshot_.participants,
            snapshot_.factors,
            snapshot_.assessments,
            snapshot_.statistics,
        )
        assert snapshot_.text().endswith(
            "Factors:\n"
            "- Speed (winner: PyTorch)\n"
            "  PyTorch: PyTorch is fine.\n"
            "  TensorFlow: TensorFlow is fine.\n"
            "\n"
            "Statistics:\n"
        )

    def test_names_typed_as_html_stay_text(self, admin_client, speed):
        comparison, factor, before = speed
        Factor.objects.filter(pk=factor.pk).update(name="<b>Speed</b>")
        after = save_in_admin(admin_client, comparison)
        body = admin_client.get(diff_url(comparison, before, after)).content.decode()
        assert "&lt;b&gt;Speed&lt;/b&gt;" in body and "<b>Speed</b>" not in body


@pytest.mark.parametrize("name", ["diff", "restore"])
def test_the_history_pages_query_count_does_not_grow_with_the_page(admin_client, name):
    counts = []
    for factors in (2, 8):
        comparison = make_comparison(factors=factors, statistics=factors)
        first = save_in_admin(admin_client, comparison)
        Factor.objects.filter(comparison=comparison).update(winner=None, is_tie=True)
        second = save_in_admin(admin_client, comparison)
        url = (
            diff_url(comparison, first, second)
            if name == "diff"
            else restore_url(comparison, first)
        )
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


class TestRestoreExactlyTheNamedVersion:
    @pytest.fixture
    def three_versions(self, admin_client):
        comparison = make_comparison(factors=1)
        first = save_in_admin(admin_client, comparison, title="First title")
        second = save_in_admin(admin_client, comparison, title="Second title")
        third = save_in_admin(admin_client, comparison, title="Third title")
        return comparison, first, second, third

    @pytest.mark.parametrize("newer_first", [False, True])
    def test_a_from_to_page_offers_each_version_by_name(
        self, admin_client, three_versions, newer_first
    ):
        comparison, first, second, _ = three_versions
        pair = (second, first) if newer_first else (first, second)
        page = admin_client.get(diff_url(comparison, *pair))
        body, text = page.content.decode(), page_text(page)
        assert f'href="{restore_url(comparison, first)}"' in body
        assert f'href="{restore_url(comparison, second)}"' in body
        assert f"Restore the older version, saved on {version_name(first)}" in text
        assert f"Restore the newer version, saved on {version_name(second)}" in text
        assert "Restore this version" not in text

    def test_the_confirmation_shows_what_restoring_changes_on_the_page_now(
        self, admin_client, three_versions
    ):
        comparison, _, second, _ = three_versions
        page = admin_client.get(restore_url(comparison, second))
        text = seen_text(page)
        assert f"Restore the version saved on {version_name(second)}?" in text
        assert "Changed Title: Third title → Second title" in text
        assert f"Yes, restore the version saved on {version_name(second)}" in text
        assert 'name="csrfmiddlewaretoken"' in page.content.decode()

    def test_restoring_the_newer_of_two_compared_versions_restores_that_one(
        self, admin_client, three_versions
    ):
        comparison, _, second, _ = three_versions
        response = admin_client.post(restore_url(comparison, second), follow=True)
        comparison.refresh_from_db()
        assert comparison.title == "Second title"
        assert f"Restored the version saved on {version_name(second)}." in page_text(response)
        latest = versions(comparison)[-1]
        assert (
            latest.revision.get_comment()
            == f"Restored the version saved on {version_name(second)}."
        )


class TestOneDateFormat:
    def test_every_history_page_and_message_names_a_save_to_the_second(self, admin_client, edited):
        comparison, _, _ = edited
        first, second = versions(comparison)
        Revision.objects.filter(pk=first.revision_id).update(
            date_created=datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
        )
        first.refresh_from_db()
        first = Version.objects.select_related("revision__user").get(pk=first.pk)
        assert saved_at(first.revision.date_created) == "2026-05-04 03:02:01 UTC"
        assert version_name(first) == "2026-05-04 03:02:01 UTC by admin"
        assert SAVED_AT_FORMAT.endswith("s T")

        pages = [
            admin_client.get(history_url(comparison)),
            admin_client.get(diff_url(comparison, first, second)),
            admin_client.get(restore_url(comparison, first)),
            admin_client.post(restore_url(comparison, first), follow=True),
        ]
        for page in pages:
            assert "2026-05-04 03:02:01 UTC" in page_text(page), page.request["PATH_INFO"]
        assert versions(comparison)[-1].revision.get_comment() == (
            "Restored the version saved on 2026-05-04 03:02:01 UTC by admin."
        )


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

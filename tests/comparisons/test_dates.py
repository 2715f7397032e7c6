"""Honest dates: published, last updated (real content changes only), last reviewed; stale flags."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from comparisons.models import REVIEW_INTERVAL, Comparison, Statistic
from tests.clock import at
from tests.factories import make_comparison, make_framework, make_statistic
from tests.support.admin_forms import assessment, change_form_data, change_url
from tests.support.pages import page_text

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def changelist(client, query=""):
    return page_text(client.get(reverse("admin:comparisons_comparison_changelist") + query))


class TestContentUpdatedAt:
    def test_first_save_records_the_content_without_dating_a_change(self, admin_client):
        comparison = make_comparison(factors=1)
        admin_client.post(change_url(comparison), change_form_data(comparison))
        comparison.refresh_from_db()
        assert comparison.content_fingerprint
        assert comparison.content_updated_at is None
        assert comparison.modified_at == comparison.published_at

    def test_saving_without_a_change_moves_nothing(self, admin_client):
        comparison = make_comparison(factors=1)
        admin_client.post(change_url(comparison), change_form_data(comparison))
        comparison.refresh_from_db()
        admin_client.post(change_url(comparison), change_form_data(comparison, subtitle="New"))
        comparison.refresh_from_db()
        changed_at = comparison.content_updated_at
        assert changed_at is not None
        admin_client.post(change_url(comparison), change_form_data(comparison))
        comparison.refresh_from_db()
        assert comparison.content_updated_at == changed_at

    def test_a_changed_assessment_is_a_content_change(self, admin_client):
        comparison = make_comparison(factors=1)
        admin_client.post(change_url(comparison), change_form_data(comparison))
        data = change_form_data(comparison)
        data["factors-0-" + assessment(0)] = "Much faster now"
        admin_client.post(change_url(comparison), data)
        comparison.refresh_from_db()
        assert comparison.content_updated_at is not None

    def test_an_unsourced_statistic_visitors_never_see_changes_nothing(self, admin_client):
        comparison = make_comparison(factors=1)
        make_statistic(comparison, source_url="")
        admin_client.post(change_url(comparison), change_form_data(comparison))
        data = change_form_data(comparison)
        data["statistics-0-value"] = "12%"
        admin_client.post(change_url(comparison), data)
        comparison.refresh_from_db()
        assert comparison.statistics.get().value == "12%"
        assert comparison.content_updated_at is None

    def test_visitors_see_published_and_updated_dates(self, client):
        comparison = make_comparison(
            published_at=datetime(2026, 1, 10, tzinfo=UTC),
            content_updated_at=datetime(2026, 3, 2, tzinfo=UTC),
        )
        text = page_text(client.get(comparison.get_absolute_url()))
        assert "Published on 10 January 2026" in text
        assert "Last updated on 2 March 2026" in text

    def test_no_updated_date_before_any_change(self, client):
        comparison = make_comparison()
        assert "Last updated" not in page_text(client.get(comparison.get_absolute_url()))


class TestReview:
    def test_mark_reviewed_records_who_and_when_and_visitors_see_it(self, admin_client, client):
        comparison = make_comparison()
        assert "Not reviewed since publication" in page_text(
            client.get(comparison.get_absolute_url())
        )
        with at(NOW):
            admin_client.post(
                reverse("admin:comparisons_comparison_changelist"),
                {"action": "mark_reviewed", "_selected_action": [comparison.pk]},
            )
        comparison.refresh_from_db()
        assert comparison.last_reviewed_at == NOW
        assert comparison.last_reviewed_by.username == "admin"
        text = page_text(client.get(comparison.get_absolute_url()))
        assert "Last reviewed on 15 June 2026" in text

    def test_marking_reviewed_is_not_a_content_change(self, admin_client):
        comparison = make_comparison()
        admin_client.post(
            reverse("admin:comparisons_comparison_changelist"),
            {"action": "mark_reviewed", "_selected_action": [comparison.pk]},
        )
        comparison.refresh_from_db()
        assert comparison.content_updated_at is None

    def test_review_is_overdue_exactly_180_days_after_the_last_one(self):
        comparison = make_comparison(last_reviewed_at=NOW - REVIEW_INTERVAL)
        assert REVIEW_INTERVAL == timedelta(days=180)
        assert not comparison.review_overdue(now=NOW - timedelta(seconds=1))
        assert comparison.review_overdue(now=NOW)
        assert not Comparison.objects.review_overdue(now=NOW - timedelta(seconds=1)).exists()
        assert list(Comparison.objects.review_overdue(now=NOW)) == [comparison]

    def test_never_reviewed_counts_from_publication(self):
        comparison = make_comparison(published_at=NOW - REVIEW_INTERVAL)
        assert not comparison.review_overdue(now=NOW - timedelta(seconds=1))
        assert comparison.review_overdue(now=NOW)
        assert list(Comparison.objects.review_overdue(now=NOW)) == [comparison]


class TestStaleStatistics:
    def test_older_than_two_years_is_stale(self):
        """In 2026, figures from 2024 are current and figures from 2023 are stale."""
        comparison = make_comparison()
        current = make_statistic(comparison, year=2024)
        stale = make_statistic(comparison, year=2023)
        assert not current.is_stale(now=NOW)
        assert stale.is_stale(now=NOW)
        assert list(Statistic.objects.stale(now=NOW)) == [stale]
        assert comparison.stale_statistics(now=NOW) == [stale]
        # On new year's day 2027 the 2024 figure turns stale too.
        assert current.is_stale(now=datetime(2027, 1, 1, tzinfo=UTC))
        assert not current.is_stale(now=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))


class TestNeedsReviewInTheAdmin:
    def test_filter_and_column_flag_overdue_reviews_and_old_statistics(self, admin_client):
        year = timezone.now().year
        fresh = make_comparison(title="Fresh page", last_reviewed_at=timezone.now())
        make_statistic(fresh, year=year - 2)
        overdue = make_comparison(
            title="Forgotten page", last_reviewed_at=timezone.now() - timedelta(days=181)
        )
        old_figures = make_comparison(title="Old figures page", last_reviewed_at=timezone.now())
        make_statistic(old_figures, year=year - 3)

        needs = changelist(admin_client, "?review=any")
        assert overdue.title in needs and old_figures.title in needs
        assert fresh.title not in needs
        assert "Needs review: Review overdue" in needs
        assert "Needs review: 1 old statistic" in needs

        stale_only = changelist(admin_client, "?review=stale")
        assert old_figures.title in stale_only and overdue.title not in stale_only
        overdue_only = changelist(admin_client, "?review=overdue")
        assert overdue.title in overdue_only and old_figures.title not in overdue_only
        fine = changelist(admin_client, "?review=ok")
        assert fresh.title in fine and overdue.title not in fine

    def test_queryset_and_model_agree(self):
        frameworks = [make_framework(), make_framework()]
        flagged = make_comparison(frameworks, last_reviewed_at=NOW - timedelta(days=200))
        clean = make_comparison(last_reviewed_at=NOW)
        make_statistic(clean, year=2024)
        assert list(Comparison.objects.needs_review(now=NOW)) == [flagged]
        assert flagged.needs_review(now=NOW) and not clean.needs_review(now=NOW)


def test_moving_a_page_to_a_new_address_is_not_a_content_change(admin_client):
    comparison = make_comparison(factors=1)
    admin_client.post(change_url(comparison), change_form_data(comparison))
    admin_client.post(change_url(comparison), change_form_data(comparison, slug="moved"))
    comparison.refresh_from_db()
    assert comparison.slug == "moved"
    assert comparison.content_updated_at is None

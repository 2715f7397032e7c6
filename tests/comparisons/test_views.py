"""What a visitor sees on the home page and on a comparison page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comparisons.caching import current_content_version
from comparisons.demo import load_demo_content
from comparisons.models import Comparison
from tests.factories import make_comparison, make_framework, make_statistic
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

# The original page, word for word, kept in the repository (a clone has nothing beside it).
SEED_PATH = Path(settings.BASE_DIR) / "tests" / "data" / "pytorch-vs-tensorflow.txt"


def seed_url():
    return reverse("comparisons:detail", kwargs={"slug": "pytorch-vs-tensorflow"})


class TestSeedPage:
    # Lines of the seed that are layout artefacts of the original page, not text:
    # scores glued to labels ("Total Score3/ 52/ 50 ties", "PyTorchRecommended").
    LAYOUT_ARTEFACTS = {
        "3",
        "2",
        "Total Score3/ 52/ 50 ties",
        "PyTorchRecommended",
        "TensorFlowWinner",
    }
    # The three figures have no description or source in the seed: they must stay off.
    UNSOURCED_FIGURES = {"78%", "2.5M+", "40%"}
    # Claims about the figures shown: with none shown, the page does not make them
    # (tests/comparisons/test_statistics_on_page.py shows them once a figure is there).
    CLAIMS_ABOUT_SHOWN_FIGURES = {
        "Real data from verified industry sources to support your decision.",
        "All statistics come from verified third-party sources. "
        "Source, year, and direct link are shown on each metric.",
    }

    def test_every_line_of_the_seed_is_on_the_page(self, client):
        load_demo_content()
        text = page_text(client.get(seed_url()))
        # List bullets ("•") are drawn by the browser, not part of the text.
        seed_lines = [
            line.strip().removeprefix("•").strip()
            for line in SEED_PATH.read_text().splitlines()
            if line.strip()
        ]
        for line in seed_lines:
            if "comparisonData." in line or line in self.LAYOUT_ARTEFACTS:
                continue
            if line in self.UNSOURCED_FIGURES or line in self.CLAIMS_ABOUT_SHOWN_FIGURES:
                continue
            assert re.sub(r"\s+", " ", line) in text, f"missing from the page: {line!r}"

    def test_scores_and_markers_read_as_text(self, client):
        load_demo_content()
        text = page_text(client.get(seed_url()))
        assert "Total score: PyTorch 3/5, TensorFlow 2/5, 0 ties" in text
        assert "PyTorch Recommended" in text
        assert "PyTorch 3 of 5 factors won" in text
        assert "TensorFlow 2 of 5 factors won" in text

    def test_no_raw_keys_and_no_unsourced_figures(self, client):
        load_demo_content()
        text = page_text(client.get(seed_url()))
        assert "comparisonData" not in text
        assert "statistics.0" not in text
        for figure in self.UNSOURCED_FIGURES:
            assert figure not in text
        assert "still verifying the figures" in text

    def test_call_to_action_books_this_comparison(self, client):
        load_demo_content()
        response = client.get(seed_url())
        booking = reverse("consultations:book") + "?comparison=pytorch-vs-tensorflow"
        assert f'href="{booking}"' in response.content.decode()
        text = page_text(response)
        assert "No obligation" in text and "Response within 24h" in text

    def test_loading_twice_duplicates_nothing(self):
        assert load_demo_content() is True
        counts = [Comparison.objects.count(), Comparison.objects.get().factors.count()]
        assert load_demo_content() is False
        assert [Comparison.objects.count(), Comparison.objects.get().factors.count()] == counts
        assert counts == [1, 5]

    def test_seed_statistics_are_in_the_admin_as_needing_a_source(self, admin_client):
        load_demo_content()
        response = admin_client.get(
            reverse("admin:comparisons_statistic_changelist") + "?sourced=no"
        )
        text = page_text(response)
        for figure in self.UNSOURCED_FIGURES:
            assert figure in text
        assert text.count("description, source, source link") == 3


class TestComparisonPage:
    def test_complete_statistic_shows_value_description_source_year_and_link(self, client):
        comparison = make_comparison()
        make_statistic(
            comparison,
            value="61%",
            description="of surveyed teams ship models with it",
            source_name="Survey Org",
            source_url="https://survey.example/2025",
            year=2025,
        )
        response = client.get(comparison.get_absolute_url())
        text = page_text(response)
        assert "61% of surveyed teams ship models with it Source: Survey Org (2025)" in text
        assert 'href="https://survey.example/2025"' in response.content.decode()

    def test_incomplete_statistic_never_appears(self, client):
        comparison = make_comparison()
        make_statistic(comparison, value="99%", source_url="")
        assert "99%" not in page_text(client.get(comparison.get_absolute_url()))

    def test_draft_is_404_to_visitors(self, client):
        comparison = make_comparison(published=False)
        assert client.get(comparison.get_absolute_url()).status_code == 404

    def test_future_publish_time_is_404_until_it_comes(self, client):
        comparison = make_comparison(published_at=timezone.now() + timezone.timedelta(hours=1))
        assert client.get(comparison.get_absolute_url()).status_code == 404

    def test_unknown_slug_is_404(self, client):
        assert client.get(reverse("comparisons:detail", kwargs={"slug": "nope"})).status_code == 404

    def test_three_way_comparison_shows_every_framework(self, client):
        names = ["PyTorch", "TensorFlow", "JAX"]
        comparison = make_comparison([make_framework(n) for n in names], factors=3)
        text = page_text(client.get(comparison.get_absolute_url()))
        for name in names:
            assert f"Choose {name} when..." in text
            assert f"{name} 1/3" in text

    def test_editor_text_is_escaped(self, client):
        comparison = make_comparison(subtitle='<script>alert("x")</script>')
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert '<script>alert("x")' not in body
        assert "&lt;script&gt;" in body

    def test_query_count_does_not_grow_with_factors(self, client):
        counts = []
        make_comparison()  # in the same category: both pages list it as related
        for factors in (5, 50):
            frameworks = [make_framework() for _ in range(4)]
            comparison = make_comparison(frameworks, factors=factors, statistics=3)
            current_content_version()  # the cache's own bookkeeping, done once per edit
            with CaptureQueriesContext(connection) as queries:
                response = client.get(comparison.get_absolute_url())
            assert response.status_code == 200
            counts.append(len(queries))
        # comparison, participants+frameworks, factors, assessments, statistics,
        # related comparisons, their participants+frameworks
        assert counts == [7, 7]


class TestHomePage:
    def test_lists_published_newest_first_and_hides_drafts(self, client):
        older = make_comparison(
            title="Older", published_at=timezone.now() - timezone.timedelta(days=2)
        )
        newer = make_comparison(
            title="Newer", published_at=timezone.now() - timezone.timedelta(days=1)
        )
        make_comparison(title="Secret draft", published=False)
        text = page_text(client.get(reverse("comparisons:home")))
        assert text.index(newer.title) < text.index(older.title)
        assert "Secret draft" not in text

    def test_the_old_category_filter_redirects_to_the_hub(self, client):
        make_comparison(title="Databases compared", category="Databases")
        make_comparison(title="Frameworks compared", category="Technology")
        response = client.get(reverse("comparisons:home") + "?category=Databases")
        assert response.status_code == 301
        assert response["Location"] == "/categories/databases/"
        response = client.get(reverse("comparisons:home") + "?category=Databases&page=2")
        assert response["Location"] == "/categories/databases/?page=2"

    def test_unknown_category_says_so(self, client):
        make_comparison(category="Databases")
        make_comparison(category="Technology")
        response = client.get(reverse("comparisons:home") + "?category=<b>x</b>")
        assert response.status_code == 404
        assert "There is no category with that name" in page_text(response)
        assert "<b>x</b>" not in response.content.decode()

    def test_query_count_does_not_grow_with_comparisons(self, client, django_assert_num_queries):
        for _ in range(12):
            make_comparison()
        current_content_version()
        # categories, count for the pages, comparisons, participants+frameworks
        with django_assert_num_queries(4):
            client.get(reverse("comparisons:home"))
        for _ in range(40):
            make_comparison()
        current_content_version()
        with django_assert_num_queries(4):
            response = client.get(reverse("comparisons:home") + "?page=2")
        assert "Page 2 of 2" in page_text(response)

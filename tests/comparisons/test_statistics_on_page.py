"""What readers are told about the statistics: which may be out of date, and
no claim about sources while no statistic is shown."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from comparisons.models import next_stale_statistic_change, stale_statistic_year
from tests.clock import at
from tests.factories import make_comparison, make_statistic
from tests.support.pages import page_text

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

CLAIM = "All statistics come from verified third-party sources."


def page(client, comparison):
    return page_text(client.get(comparison.get_absolute_url()))


class TestStaleMark:
    def test_a_stale_statistic_says_so_in_words(self, client):
        comparison = make_comparison()
        year = stale_statistic_year() - 1
        make_statistic(comparison, value="61%", year=year)
        assert f"({year}) From {year}: may be out of date." in page(client, comparison)

    def test_a_statistic_of_the_oldest_current_year_is_not_marked(self, client):
        comparison = make_comparison()
        make_statistic(comparison, value="61%", year=stale_statistic_year())
        assert "may be out of date" not in page(client, comparison)

    def test_the_mark_follows_the_model_rule(self, client):
        comparison = make_comparison()
        current = make_statistic(comparison, value="61%", year=stale_statistic_year())
        stale = make_statistic(comparison, value="12%", year=stale_statistic_year() - 3)
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert not current.is_stale() and stale.is_stale()
        assert body.count('class="statistic__stale"') == 1
        marked = body.split(f'id="statistic-{stale.pk}"')[1].split("</li>")[0]
        assert f"From {stale.year}: may be out of date." in marked


class TestNewYear:
    """The year turning makes figures stale with no save: the cached page must follow."""

    def test_the_next_change_is_the_start_of_next_year(self):
        year = timezone.now().year
        assert next_stale_statistic_change() == datetime(year + 1, 1, 1, tzinfo=UTC)

    def test_a_cached_page_is_marked_from_the_first_second_of_the_new_year(self, client):
        new_year = next_stale_statistic_change()
        comparison = make_comparison()
        # Current until New Year's Eve, stale from New Year's Day.
        make_statistic(comparison, year=stale_statistic_year(new_year) - 1)
        with at(new_year - timedelta(seconds=1)):
            assert "may be out of date" not in page(client, comparison)
            # Served from the cache from here on.
            assert "may be out of date" not in page(client, comparison)
        with at(new_year):
            assert "may be out of date" in page(client, comparison)


class TestWording:
    def test_without_a_shown_statistic_the_page_claims_nothing_about_sources(self, client):
        comparison = make_comparison()
        make_statistic(comparison, value="99%", source_url="")  # incomplete: never shown
        text = page(client, comparison)
        assert CLAIM not in text
        assert "verified industry sources" not in text
        assert "We are still verifying the figures for this comparison." in text
        assert "How we source statistics" in text

    def test_with_a_shown_statistic_the_claim_stands(self, client):
        comparison = make_comparison()
        make_statistic(comparison)
        text = page(client, comparison)
        assert CLAIM in text
        assert "still verifying" not in text


def test_the_methodology_says_readers_see_the_mark(client):
    text = page_text(client.get(reverse("comparisons:methodology")))
    assert "more than two years before the current year is marked “may be out of date”" in text

"""Public pages come from the shared cache, yet an edit shows on the very next request."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comparisons.models import Comparison
from tests.clock import at
from tests.factories import make_comparison, make_user

# clock: these tests read the clock; `pytest --every-date` runs them on many dates.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_a_repeat_anonymous_visit_costs_no_database_query(client):
    comparison = make_comparison(factors=5, statistics=2)
    first = client.get(comparison.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        second = client.get(comparison.get_absolute_url())
    assert len(queries) == 0
    assert second.content == first.content


def test_an_edit_is_served_on_the_next_request(client):
    comparison = make_comparison(quick_verdict="Old verdict.")
    assert b"Old verdict." in client.get(comparison.get_absolute_url()).content
    comparison.quick_verdict = "New verdict."
    comparison.save()
    body = client.get(comparison.get_absolute_url()).content
    assert b"New verdict." in body and b"Old verdict." not in body


def test_a_child_row_edit_is_served_on_the_next_request(client):
    comparison = make_comparison(factors=1)
    client.get(comparison.get_absolute_url())
    factor = comparison.factors.get()
    factor.name = "Renamed factor"
    factor.save()
    assert b"Renamed factor" in client.get(comparison.get_absolute_url()).content


def test_unpublishing_removes_the_page_at_once(client):
    comparison = make_comparison()
    assert client.get(comparison.get_absolute_url()).status_code == 200
    comparison.status = Comparison.Status.DRAFT
    comparison.save()
    assert client.get(comparison.get_absolute_url()).status_code == 404
    assert comparison.title not in client.get(reverse("comparisons:home")).content.decode()


def test_repeat_visitor_gets_304_and_a_changed_page_gets_a_new_etag(client):
    comparison = make_comparison()
    first = client.get(comparison.get_absolute_url())
    etag = first["ETag"]
    assert "no-cache" in first["Cache-Control"]
    assert (
        client.get(comparison.get_absolute_url(), headers={"if-none-match": etag}).status_code
        == 304
    )
    comparison.subtitle = "Changed"
    comparison.save()
    changed = client.get(comparison.get_absolute_url(), headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_scheduled_comparison_appears_on_the_home_page_exactly_when_due(client):
    due = timezone.now() + timezone.timedelta(hours=2)
    make_comparison(title="Scheduled one", published_at=due)
    home = reverse("comparisons:home")
    with at(due - timezone.timedelta(seconds=1)):
        assert b"Scheduled one" not in client.get(home).content
    with at(due):
        assert b"Scheduled one" in client.get(home).content


def test_logged_in_users_bypass_the_cache(client):
    comparison = make_comparison(quick_verdict="Cached verdict.")
    client.get(comparison.get_absolute_url())
    Comparison.objects.filter(pk=comparison.pk).update(quick_verdict="Bulk-updated verdict.")
    client.force_login(make_user())
    assert b"Bulk-updated verdict." in client.get(comparison.get_absolute_url()).content


def test_unknown_query_parameters_share_one_cache_entry(client):
    comparison = make_comparison()
    client.get(reverse("comparisons:home"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("comparisons:home") + "?utm_source=newsletter")
    assert len(queries) == 0
    assert comparison.title in client.get(reverse("comparisons:home")).content.decode()


def test_cached_pages_keep_the_security_headers(client):
    comparison = make_comparison()
    client.get(comparison.get_absolute_url())
    cached = client.get(comparison.get_absolute_url())
    assert cached["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in cached["Content-Security-Policy"]
    assert cached["X-Content-Type-Options"] == "nosniff"


def cache_entries():
    """How many keys the test cache (process memory) holds."""
    return len(cache._cache)


@pytest.mark.parametrize(
    "page", ["x", "x1", "0", "-1", "01", "+1", "1.0", " 1", "1_0", "2", "99", "1" * 50]
)
def test_a_page_number_the_links_never_write_is_404_and_not_cached(client, page):
    make_comparison()
    response = client.get(reverse("comparisons:home"), {"page": page})
    assert response.status_code == 404
    assert cache_entries() <= 1  # at most the content version


def test_many_junk_values_make_a_bounded_number_of_cache_entries(client):
    for number in range(35):
        make_comparison(category="Databases" if number % 2 else "Technology")
    home = reverse("comparisons:home")
    assert client.get(home).status_code == 200
    assert client.get(home, {"page": "2"}).status_code == 200
    assert client.get(home, {"category": "Databases"}).status_code == 301
    stored = cache_entries()
    for number in range(300):
        assert client.get(home, {"page": f"x{number}"}).status_code == 404
        assert client.get(home, {"category": f"junk{number}"}).status_code == 404
        assert client.get(home, {"utm_source": f"mail{number}"}).status_code == 200
        assert client.get(home, {"page": ""}).status_code == 200  # empty is absent
    assert client.get(home, {"page": "1"}).status_code == 200
    # The 1,200 junk requests stored nothing new; "?page=1" is the one new entry.
    assert cache_entries() == stored + 1

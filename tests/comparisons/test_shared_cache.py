"""Which responses a shared HTTP cache may keep (caching.may_share), what they are
tagged with, and the purge outbox every change writes (purges.py).

tests/http_cache/ checks the same against a real Varnish; these check each
page and each rule in-process, where a failure names the page.
"""

import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from comparisons import purges
from comparisons.models import CachePurge, Comparison
from tests.factories import make_comparison

# clock: scheduled publications and retry times read the clock.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def shared(response):
    cache_control = response.get("Cache-Control", "")
    return "public" in cache_control and "s-maxage=" in cache_control


@pytest.fixture
def comparison():
    return make_comparison(factors=2, category="Machine learning")


def public_addresses(comparison):
    framework = comparison.participants.first().framework
    return {
        "comparison page": comparison.get_absolute_url(),
        "weighted result": reverse("comparisons:result", args=[comparison.slug]),
        "Markdown export": reverse("comparisons:decision_markdown", args=[comparison.slug]),
        "JSON export": reverse("comparisons:decision_json", args=[comparison.slug]),
        "home": reverse("comparisons:home"),
        "hub": comparison.get_category_url(),
        "framework page": framework.get_absolute_url(),
        "search": reverse("comparisons:search") + "?q=framework",
        "sitemap": reverse("sitemap"),
        "feed": reverse("comparisons:feed"),
    }


def test_every_public_page_may_be_shared_and_names_what_it_shows(client, comparison):
    framework = comparison.participants.first().framework
    for name, url in public_addresses(comparison).items():
        for attempt in ("rendered", "from the page cache"):
            response = client.get(url)
            assert response.status_code == 200, (name, attempt)
            assert shared(response), (name, attempt, response.get("Cache-Control"))
            cache_control = response["Cache-Control"]
            assert "no-cache" in cache_control  # browsers revalidate
            assert "stale-if-error=" in cache_control and "stale-while-revalidate=" in cache_control
            keys = set(response["xkey"].split())
            if name in ("home", "search", "sitemap", "feed", "hub"):
                assert "listings" in keys, name
            elif name == "framework page":
                assert {f"framework-{framework.pk}", f"comparison-{comparison.pk}"} <= keys
            else:
                assert {
                    f"comparison-{comparison.pk}",
                    f"framework-{framework.pk}",
                    "category-machine-learning",
                } <= keys, name


def test_every_german_page_may_be_shared_with_the_same_tags(client, comparison):
    """A German page is another address with the same content: shared like its
    English page and tagged alike, so one purge drops both."""
    for name, url in public_addresses(comparison).items():
        if name == "sitemap":
            continue  # one sitemap lists both languages
        english = client.get(url)
        german = client.get("/de" + url)
        assert german.status_code == 200, name
        assert german["Content-Language"] == "de", name
        assert shared(german), (name, german.get("Cache-Control"))
        assert german["xkey"] == english["xkey"], name


def test_a_first_visits_redirect_is_never_shared(client, comparison):
    response = client.get(comparison.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302 and not shared(response)
    assert "xkey" not in response


def test_personal_pages_errors_and_posts_are_never_shared(client, comparison, editor):
    draft = make_comparison(published=False)
    responses = {
        "booking form": client.get(reverse("consultations:book")),
        "request page": client.get(reverse("consultations:request", args=["CR-NOPE"])),
        "admin": client.get(reverse("admin:index")),
        "unknown page": client.get("/compare/nothing-here/"),
        "bad page number": client.get(reverse("comparisons:home") + "?page=x"),
        "search too long": client.get(reverse("comparisons:search") + "?q=" + "x" * 500),
        "junk weights": client.get(comparison.get_absolute_url() + "?w=nope:critical"),
        "search POST": client.post(reverse("comparisons:search")),
    }
    client.force_login(editor)
    responses["editor's page"] = client.get(comparison.get_absolute_url())
    responses["preview"] = client.get(draft.get_absolute_url())
    for name, response in responses.items():
        assert not shared(response), (name, response.get("Cache-Control"))


def test_a_public_page_with_a_flash_message_or_a_cookie_is_not_shared(client, comparison):
    client.cookies["messages"] = "waiting"
    assert not shared(client.get(comparison.get_absolute_url()))


@pytest.fixture
def purge_urls(settings):
    settings.HTTP_CACHE_PURGE_URLS = ["http://127.0.0.1:1/", "http://127.0.0.1:2/"]
    return settings.HTTP_CACHE_PURGE_URLS


def test_an_edit_queues_its_tags_once_per_cache_in_its_own_transaction(
    comparison, purge_urls, django_capture_on_commit_callbacks
):
    framework_ids = [p.framework_id for p in comparison.participants.all()]
    with django_capture_on_commit_callbacks() as callbacks:
        comparison.category = "Databases"
        comparison.save()
        for factor in comparison.factors.all():
            factor.save()
    rows = list(CachePurge.objects.order_by("cache_url"))
    assert [row.cache_url for row in rows] == purge_urls  # one batch, one row per cache
    keys = set(rows[0].keys.split())
    assert keys == {
        f"comparison-{comparison.pk}",
        "category-machine-learning",  # the hub it left
        "category-databases",  # the hub it joined
        "listings",
        *(f"framework-{pk}" for pk in framework_ids),
    }
    assert len([c for c in callbacks if isinstance(c, purges.PurgeBatch)]) == 1


def test_nothing_is_queued_without_a_cache(settings, comparison):
    settings.HTTP_CACHE_PURGE_URLS = []
    comparison.save()
    assert not CachePurge.objects.exists()


class Purges(BaseHTTPRequestHandler):
    received = []

    def do_PURGE(self):  # noqa: N802 (the method's name)
        Purges.received.append(self.headers["xkey"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_failed_purge_is_kept_and_retried_until_the_cache_answers(
    settings, comparison, django_capture_on_commit_callbacks
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.HTTP_CACHE_PURGE_URLS = [f"http://127.0.0.1:{port}/"]
    settings.HTTP_CACHE_PURGE_RETRY_SECONDS = 5
    with django_capture_on_commit_callbacks(execute=True):
        comparison.save()  # tried right after the commit: nothing listens there
    purge = CachePurge.objects.get()
    assert purge.status == "pending" and purge.attempts == 1
    assert "refused" in purge.last_error.lower()
    now = timezone.now()
    assert now < purge.next_attempt_at <= now + timedelta(seconds=5)
    assert purges.purge_due(now=now) == (0, 0)  # not due yet

    server = HTTPServer(("127.0.0.1", port), Purges)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        Purges.received.clear()
        assert purges.purge_due(now=purge.next_attempt_at) == (1, 0)
    finally:
        server.shutdown()
        server.server_close()
    purge.refresh_from_db()
    assert purge.status == "purged" and purge.attempts == 2 and purge.last_error == ""
    assert Purges.received == [purge.keys]


def test_a_scheduled_publication_queues_a_purge_for_its_publish_time(purge_urls):
    due = timezone.now() + timedelta(hours=3)
    scheduled = make_comparison(published_at=due)
    assert scheduled.status == Comparison.Status.PUBLISHED and scheduled.is_scheduled
    at_due = CachePurge.objects.filter(next_attempt_at=due)
    assert at_due.count() == len(purge_urls)
    assert f"comparison-{scheduled.pk}" in at_due.first().keys.split()
    assert not CachePurge.objects.due(due - timedelta(seconds=1)).filter(next_attempt_at=due)
    assert CachePurge.objects.due(due).filter(next_attempt_at=due).count() == len(purge_urls)


def shared_lifetime(response):
    """Seconds a shared cache may serve the response without asking: fresh, then
    stale while it refreshes."""
    directives = dict(
        part.strip().partition("=")[::2] for part in response["Cache-Control"].split(",")
    )
    return int(directives["s-maxage"]) + int(directives["stale-while-revalidate"])


@pytest.mark.parametrize("minutes_before", [5, 0.25])
def test_no_page_is_kept_past_the_new_year(client, comparison, time_machine, minutes_before):
    """At the New Year statistics become "may be out of date" with no save, so no
    purge: a shared cache must not keep a page across it."""
    new_year = timezone.now().replace(
        year=timezone.now().year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    time_machine.move_to(new_year - timedelta(minutes=minutes_before), tick=False)
    for name, url in public_addresses(comparison).items():
        response = client.get(url)
        assert shared(response), name
        assert shared_lifetime(response) <= minutes_before * 60, (name, response["Cache-Control"])


def test_no_page_is_kept_past_a_scheduled_publication(client, comparison, time_machine):
    time_machine.move_to(timezone.now().replace(month=6, day=1, hour=12), tick=False)
    make_comparison(title="Coming soon", published_at=timezone.now() + timedelta(minutes=10))
    response = client.get(reverse("comparisons:home"))
    assert shared(response)
    assert 0 < shared_lifetime(response) <= 10 * 60

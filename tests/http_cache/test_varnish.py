"""The shared HTTP cache, for real: Varnish with deploy/varnish/site.vcl in front of
gunicorn with production settings, PostgreSQL, and the task worker.

What a visitor and an editor would check: a page read twice is rendered once;
an editor's change shows through the cache on the very next request; personal
pages never come from the cache; a dead backend gets the stale page rather
than an error; a purge that could not reach the cache is retried until it does;
a scheduled publication reaches the cache at its time, with no request.
"""

import http.client
import re
import time
import urllib.parse
import uuid

import pytest

from tests.support.figures import record
from tests.support.http_client import Browser, FormReader

from .conftest import get, wait_for

SEED_PATH = "/compare/pytorch-vs-tensorflow/"

# slow: started servers, so they run on the xdist worker of the other server tests.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def purges_settled(cached_site):
    """Each test starts with every purge an earlier one queued landed: a late purge
    (a retry, a scheduled publication's) would evict the page a test reads twice."""
    assert wait_for(lambda: all(row[1] == "purged" for row in cached_site.purges()), timeout=15)


def edit_verdict(base, password, verdict):
    """Sign in to the admin at ``base`` and save the seed comparison with ``verdict``,
    as an editor would; returns how long the save took, in seconds."""
    editor = Browser(base)
    assert editor.sign_in("editor", password), "the editor could not sign in"
    _, changelist = editor.request("/admin/comparisons/comparison/")
    change_path = re.search(r'href="(/admin/comparisons/comparison/\d+/change/)"', changelist)
    _, form_page = editor.request(change_path.group(1))
    reader = FormReader()
    reader.feed(form_page)
    fields = [
        (name, verdict if name == "quick_verdict" else value)
        for name, value in reader.fields
        if value is not None
    ]
    started = time.monotonic()
    status, body = editor.request(change_path.group(1), fields)
    took = time.monotonic() - started
    assert status == 302, re.findall(r'class="errorlist[^"]*">(.*?)</ul>', body, re.S)
    return took


def test_a_page_read_twice_is_rendered_once(cached_site):
    # An address of its own (the app ignores utm_*), so that no other test cached it.
    path = f"/frameworks/pytorch/?utm_source={uuid.uuid4().hex[:8]}"
    status, first_headers, first = get(cached_site.url + path)
    assert status == 200 and first_headers["X-Cache"] == "MISS"
    assert wait_for(lambda: cached_site.renders(path) == 1)
    status, headers, second = get(cached_site.url + path)
    assert status == 200 and second == first
    assert headers["X-Cache"] == "HIT"
    assert int(headers["Age"]) >= 0
    time.sleep(0.5)  # gunicorn logs after answering: give a second render time to show
    assert cached_site.renders(path) == 1  # gunicorn never saw the second request
    # The app's lifetime for shared caches reaches the visitor; its tags do not.
    assert "s-maxage=" in headers["Cache-Control"] and "no-cache" in headers["Cache-Control"]
    assert "xkey" not in headers
    _, backend_headers, _ = get(cached_site.backend_url + path)
    assert "framework-" in backend_headers["xkey"]


def test_an_editors_change_shows_through_the_cache_on_the_next_request(cached_site):
    before = get(cached_site.url + SEED_PATH)[2]
    assert get(cached_site.url + SEED_PATH)[1]["X-Cache"] == "HIT"
    for listing in ("/", "/sitemap.xml", "/search/?q=pytorch"):
        get(cached_site.url + listing)
        assert get(cached_site.url + listing)[1]["X-Cache"] == "HIT", listing

    verdict = f"Edited behind the cache: JAX is worth a look too ({uuid.uuid4().hex[:6]})."
    took = edit_verdict(cached_site.url, cached_site.password, verdict)  # the admin passes

    status, headers, page = get(cached_site.url + SEED_PATH)
    assert status == 200
    assert verdict in page and verdict not in before
    assert headers["X-Cache"] == "MISS"
    # The listings showing the comparison were purged with it.
    for listing in ("/", "/sitemap.xml", "/search/?q=pytorch"):
        assert get(cached_site.url + listing)[1]["X-Cache"] == "MISS", listing
    keys, status, attempts, error = cached_site.purges()[-1]
    assert status == "purged" and attempts == 1 and error == ""
    assert {"listings", "framework-1", "category-technology"} <= set(keys.split())
    record(
        "http cache edit", f"HTTP cache: the admin save with its purge took {took * 1000:.0f} ms"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/consultations/book/",
        "/de/consultations/book/",
        "/consultations/book/?topic=PyTorch+vs+JAX",
        "/consultations/requests/CR-NOPE/",
        "/admin/login/",
        "/healthz",
    ],
)
def test_personal_pages_never_come_from_the_cache(cached_site, path):
    before = cached_site.renders(path)
    answers = [get(cached_site.url + path) for _ in range(3)]
    assert [headers["X-Cache"] for _, headers, _ in answers] == ["PASS"] * 3
    assert wait_for(lambda: cached_site.renders(path) == before + 3)  # each one reached gunicorn
    if path.startswith("/consultations/book/"):
        # Each visitor gets a form (and CSRF cookie) of their own.
        tokens = {
            re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)[1]
            for *_, body in answers
        }
        assert len(tokens) == 3
        assert all("csrftoken=" in headers["Set-Cookie"] for _, headers, _ in answers)


def test_a_signed_in_editor_is_never_served_the_cached_page_nor_visitors_the_preview(
    cached_site,
):
    get(cached_site.url + "/")
    assert get(cached_site.url + "/")[1]["X-Cache"] == "HIT"
    editor = Browser(cached_site.url)
    assert editor.sign_in("editor", cached_site.password)
    renders = cached_site.renders("/")
    status, _ = editor.request("/")
    assert status == 200
    assert wait_for(lambda: cached_site.renders("/") == renders + 1)  # it reached gunicorn
    assert get(cached_site.url + "/")[1]["X-Cache"] == "HIT"  # visitors keep the cached copy


def test_each_language_is_its_own_copy_and_a_change_purges_both(cached_site):
    german_path = "/de" + SEED_PATH
    for path in (SEED_PATH, german_path):
        get(cached_site.url + path)
        assert get(cached_site.url + path)[1]["X-Cache"] == "HIT", path
    _, headers, german = get(cached_site.url + german_path)
    assert '<html lang="de">' in german and "Ausführlicher Vergleich" in german
    assert '<html lang="en">' in get(cached_site.url + SEED_PATH)[2]
    assert headers["Content-Language"] == "de"

    verdict = f"The English verdict changed ({uuid.uuid4().hex[:6]})."
    edit_verdict(cached_site.url, cached_site.password, verdict)
    # Both copies were purged: each is rendered afresh on its next request. The German
    # page keeps its own verdict (the German seed is translated; the admin now flags
    # that translation as outdated), the English one shows the edit.
    for path in (SEED_PATH, german_path):
        status, headers, page = get(cached_site.url + path)
        assert status == 200 and headers["X-Cache"] == "MISS", path
    assert verdict in get(cached_site.url + SEED_PATH)[2]
    assert verdict not in get(cached_site.url + german_path)[2]


def get_once(url, headers=None):
    """(status, headers, body) of one GET, a redirect answered as it is, not followed."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", parts.path or "/", headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def test_a_reader_who_may_prefer_german_never_gets_the_cached_english_page(cached_site):
    get = get_once
    get(cached_site.url + SEED_PATH)
    assert get(cached_site.url + SEED_PATH)[1]["X-Cache"] == "HIT"
    # A first visit preferring German: the app redirects, past the cache, every time.
    for _ in range(2):
        status, headers, _ = get(cached_site.url + SEED_PATH, {"Accept-Language": "de-DE,de"})
        assert status == 302 and headers["Location"] == "/de" + SEED_PATH
        assert headers["X-Cache"] == "PASS" and "django_language=de" in headers["Set-Cookie"]
    # A reader who chose German, on an English address they followed: to German too.
    status, headers, _ = get(cached_site.url + SEED_PATH, {"Cookie": "django_language=de"})
    assert status == 302 and headers["Location"] == "/de" + SEED_PATH
    # Readers the app shows English share the one cached copy.
    for headers_sent in (
        {"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"},
        {"Accept-Language": "de", "Cookie": "django_language=en"},
    ):
        status, headers, page = get(cached_site.url + SEED_PATH, headers_sent)
        assert status == 200 and headers["X-Cache"] == "HIT", headers_sent
        assert '<html lang="en">' in page
    # A crawler keeps the English address, though it passes the cache.
    crawler = {"Accept-Language": "de", "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
    status, _, page = get(cached_site.url + SEED_PATH, crawler)
    assert status == 200 and '<html lang="en">' in page


def test_a_purge_the_cache_missed_is_kept_and_retried_until_it_lands(cached_site):
    get(cached_site.url + SEED_PATH)
    assert get(cached_site.url + SEED_PATH)[1]["X-Cache"] == "HIT"
    before = get(cached_site.url + SEED_PATH)[2]

    cached_site.varnish.pause()  # the cache hangs: the purge times out
    try:
        verdict = f"Edited while the cache hung ({uuid.uuid4().hex[:6]})."
        edit_verdict(cached_site.backend_url, cached_site.password, verdict)
        _, status, attempts, error = cached_site.purges()[-1]
        assert status == "pending" and attempts == 1
        assert "timed out" in error
    finally:
        cached_site.varnish.resume()

    # The worker retries (HTTP_CACHE_PURGE_RETRY_SECONDS=1 here) and the purge lands.
    assert wait_for(lambda: cached_site.purges()[-1][1] == "purged", timeout=15)
    _, status, attempts, error = cached_site.purges()[-1]
    assert attempts >= 2 and error == ""
    status, headers, page = get(cached_site.url + SEED_PATH)
    assert verdict in page and page != before
    assert headers["X-Cache"] == "MISS"


def test_a_scheduled_publication_reaches_the_cache_at_its_time(cached_site):
    title = "PyTorch vs TensorFlow"
    get(cached_site.url + "/")
    assert title in get(cached_site.url + "/")[2]
    # The editor reschedules the comparison a few seconds ahead, in another process
    # (the model's save, as the admin does it): it leaves the public pages at once...
    cached_site.manage(
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone; "
        "from comparisons.models import Comparison; "
        "c = Comparison.objects.get(slug='pytorch-vs-tensorflow'); "
        "c.published_at = timezone.now() + timedelta(seconds=4); c.save()",
    )
    assert get(cached_site.url + SEED_PATH)[0] == 404
    status, headers, home = get(cached_site.url + "/")
    assert title not in home
    # ... for no longer than until it is due (fresh, then stale while refreshing) ...
    directives = dict(
        part.strip().partition("=")[::2] for part in headers["Cache-Control"].split(",")
    )
    assert int(directives["s-maxage"]) + int(directives["stale-while-revalidate"]) <= 4
    # ... and comes back when due, with nobody saving anything: the worker purges.
    assert wait_for(lambda: title in get(cached_site.url + "/")[2], timeout=15)
    assert get(cached_site.url + SEED_PATH)[0] == 200
    # The purge queued for the publication time lands (the cache's own copy may
    # have expired first): no purge is left to arrive during another test.
    assert wait_for(lambda: all(row[1] == "purged" for row in cached_site.purges()), timeout=15)


def test_a_backend_that_is_down_gets_the_stale_page_not_an_error(cached_site):
    # Pages live 1 s here, so that the copy is stale when the backend dies.
    cached_site.stop_backend()
    cached_site.start_backend(HTTP_CACHE_MAX_AGE="1", HTTP_CACHE_STALE_WHILE_REVALIDATE="0")
    path = f"{SEED_PATH}?utm_source={uuid.uuid4().hex[:8]}"  # cached by this test alone
    try:
        status, headers, page = get(cached_site.url + path)
        assert status == 200 and "s-maxage=1" in headers["Cache-Control"]
        cached_site.stop_backend()
        time.sleep(2.5)  # past s-maxage: the copy is stale

        status, headers, stale = get(cached_site.url + path)
        assert status == 200
        assert stale == page
        assert headers["X-Cache"] == "HIT-STALE"
        assert int(headers["Age"]) >= 2
        # A page the cache never had is an honest error.
        assert get(cached_site.url + "/methodology/")[0] == 503
    finally:
        cached_site.stop_backend()
        cached_site.start_backend()

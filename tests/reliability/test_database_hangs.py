"""A database that accepts connections and never answers: visitors get the 503 page fast.

A real gunicorn with production settings has DATABASE_URL pointing at a
socket on 127.0.0.1 that accepts TCP connections and never says a word (a
hung PostgreSQL). Ten concurrent page requests must each get the 503 page
within a few seconds (the connect timeout), while /livez and a static file
answer at once: nothing on their path touches the database.
"""

import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from statistics import median

import pytest
from django.templatetags.static import static

from tests.support.faults import gunicorn, production_environment
from tests.support.figures import record

pytestmark = pytest.mark.slow

CONCURRENT = 10
CONNECT_TIMEOUT = 3  # the default DB_CONNECT_TIMEOUT


def timed_get(url):
    """The status, body, headers and duration of one GET."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body = response.status, response.read().decode()
            headers = response.headers
    except urllib.error.HTTPError as error:
        status, body, headers = error.code, error.read().decode(), error.headers
    finished = time.monotonic()
    return {"status": status, "body": body, "headers": headers, "seconds": finished - started}


def test_a_hanging_database_gets_visitors_the_503_page_within_seconds(hanging_socket, tmp_path):
    environment = production_environment(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{hanging_socket.port}/compare",
        # Room for the ten waiting requests and the probes beside them.
        GUNICORN_THREADS="12",
    )
    log_path = tmp_path / "gunicorn.log"
    paths = ["/", "/compare/pytorch-vs-tensorflow/"] * (CONCURRENT // 2)
    with gunicorn(environment, log_path) as base, ThreadPoolExecutor(CONCURRENT) as pool:
        pages = [pool.submit(timed_get, base + path) for path in paths]
        # Let the ten requests reach the database and wait on it.
        deadline = time.monotonic() + 5
        while len(hanging_socket.accepted) < CONCURRENT and time.monotonic() < deadline:
            time.sleep(0.05)
        waiting = len(hanging_socket.accepted)
        livez = timed_get(base + "/livez")
        stylesheet = timed_get(base + static("css/site.css"))
        pages_still_waiting = sum(not page.done() for page in pages)
        pages = [page.result() for page in pages]
        healthz = timed_get(base + "/healthz")
    log = log_path.read_text()

    seconds = sorted(page["seconds"] for page in pages)
    record(
        "database hangs",
        f"database hangs: {CONCURRENT} concurrent page requests got "
        f"{sorted({page['status'] for page in pages})} in {seconds[0]:.2f} s min, "
        f"{median(seconds):.2f} s median, {seconds[-1]:.2f} s max; meanwhile /livez "
        f"{livez['seconds'] * 1000:.0f} ms, a static file {stylesheet['seconds'] * 1000:.0f} ms; "
        f"/healthz {healthz['status']} in {healthz['seconds']:.2f} s",
    )

    assert waiting == CONCURRENT, "the page requests did not all reach the database"
    for page in pages:
        assert page["status"] == 503
        assert "We are briefly unavailable" in page["body"]
        assert page["headers"]["Retry-After"] == "120"
        # They did wait on the database, and gave up within a few seconds.
        assert CONNECT_TIMEOUT - 1 < page["seconds"] < CONNECT_TIMEOUT + 3
    assert livez["status"] == 200 and livez["body"] == "ok"
    assert stylesheet["status"] == 200
    assert stylesheet["headers"]["Content-Type"].startswith("text/css")
    assert pages_still_waiting == CONCURRENT, "/livez and the static file answered meanwhile"
    assert livez["seconds"] < 1 and stylesheet["seconds"] < 1
    assert healthz["status"] == 503
    assert CONNECT_TIMEOUT - 1 < healthz["seconds"] < CONNECT_TIMEOUT + 3
    # Django logs each 503 with its cause; no worker was stuck long enough to be killed.
    assert "OperationalError: connection timeout expired" in log
    assert "WORKER TIMEOUT" not in log, log[-3000:]

"""Load and faults together: a real gunicorn and PostgreSQL, 32 clients, a flaky mail server.

At least 2,000 booking submissions from 32 concurrent clients reach gunicorn
(production settings, DEBUG off) over HTTP on 127.0.0.1, while two
``deliver_email`` workers send through a mail backend that fails at random.
Then the mail server "recovers" (the failure rate drops to 0) and one last
worker pass runs. Afterwards:

- every accepted booking (a 302 to its confirmation page) is in the database
  exactly once, and nothing else is;
- every outgoing message was delivered exactly once (the backend records each
  delivery's Message-ID, which is stable per outbox row);
- no response was a 5xx and no gunicorn worker died or was restarted.

The test needs PostgreSQL (SQLite cannot take concurrent writers from several
processes): it uses DATABASE_URL when that is PostgreSQL, otherwise the local
server on 127.0.0.1:5432, in a throwaway database it creates and drops. It
bounds itself (2,000 submissions, or LOAD_TEST_SECONDS, default 240, whichever
comes first; fewer than 2,000 in time is a failure) and prints its figures.
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing

from consultations.abuse import RENDER_SALT
from tests.consultations.helpers import booking_data
from tests.support.databases import throwaway_postgresql_database
from tests.support.faults import free_port, wait_until_up
from tests.support.figures import record
from tests.support.flaky_mail import read_lines
from tests.support.missing import skip_or_fail_in_ci

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
CLIENTS = 32
REQUESTS = 2000
TIME_LIMIT = float(os.environ.get("LOAD_TEST_SECONDS", "240"))
FAILURE_RATE = 0.3
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
BOOK_PATH = "/consultations/book/"
CONFIRMATION = re.compile(r"^/consultations/requests/([A-Z0-9]{10})/$")


def postgres_server_url():
    """The PostgreSQL server to make the throwaway database on, or None."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return LOCAL_POSTGRES
    except OSError:
        return None


@pytest.fixture
def throwaway_database():
    server_url = postgres_server_url()
    if server_url is None:
        skip_or_fail_in_ci(
            "The load-and-fault test needs PostgreSQL (DATABASE_URL or 127.0.0.1:5432)."
        )
    with throwaway_postgresql_database(server_url, "compare_load") as url:
        yield url


def fetch_all(database_url, sql):
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as connection:
        return connection.execute(sql).fetchall()


class Visitor(threading.Thread):
    """One client: GETs the form once, then POSTs bookings with unique emails.

    A render token books once, so each booking carries a token of its own,
    signed here with the server's key as the form page would sign it: the
    load stays on the bookings instead of doubling with a GET for each.
    """

    def __init__(self, port, number, claim, results, secret_key):
        super().__init__(daemon=True)
        self.signer = signing.TimestampSigner(key=secret_key, salt=RENDER_SALT)
        self.port = port
        self.number = number
        self.claim = claim  # returns the next submission number, or None to stop
        self.results = results
        self.cookies = {}
        self.connection = None

    def send(self, method, path, body=None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read().decode()
        except (OSError, http.client.HTTPException):
            # Never retried: a POST the server may have handled must not be sent twice.
            self.connection.close()
            self.connection = None
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        if response.will_close:
            self.connection.close()
            self.connection = None
        return response.status, response.getheader("Location", ""), content

    def run(self):
        try:
            status, _, page = self.send("GET", BOOK_PATH)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            re.search(r'name="rendered" value="([^"]+)"', page).group(1)
        except (OSError, http.client.HTTPException, AttributeError) as error:
            self.results.append((None, "error", f"the form did not load: {error!r}"))
            return
        while (number := self.claim()) is not None:
            data = booking_data(
                csrfmiddlewaretoken=token,
                name=f"Load Visitor {number}",
                email=f"load-{number}@example.com",
                company="Load Ltd",
                message=f"Request number {number}: which framework?",
                rendered=self.signer.sign(secrets.token_urlsafe(16)),
            )
            try:
                status, location, _ = self.send(
                    "POST", BOOK_PATH, urllib.parse.urlencode(data).encode()
                )
            except (OSError, http.client.HTTPException) as error:
                self.results.append((number, "error", repr(error)))
                continue
            self.results.append((number, status, location))


@pytest.fixture
def site(throwaway_database, tmp_path):
    """A migrated throwaway database, gunicorn serving it, and the environment to reuse."""
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": throwaway_database,
        "SECURE_SSL_REDIRECT": "0",
        "CONSULTATION_MIN_FILL_SECONDS": "0",
        "CONSULTATION_BOOKINGS_PER_IP_HOUR": "1000000",
        "CONSULTATION_BOOKINGS_PER_EMAIL_HOUR": "1000000",
        "TRIAGE_EMAIL": "triage@compare.example",
        "EMAIL_BACKEND_PATH": "tests.support.flaky_mail.FlakyMailServer",
        "FLAKY_MAIL_LOG": str(tmp_path / "delivered.log"),
        "FLAKY_MAIL_FAILURES": str(tmp_path / "failures.log"),
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "compare_site.wsgi",
                "-c",
                "gunicorn.conf.py",
                "--workers",
                "2",
                "--threads",
                "4",
                # Planned restarts would hide (or look like) crashes.
                "--max-requests",
                "0",
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            env={**environment, "PORT": str(port)},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server, log_path)
        yield {"port": port, "env": environment, "log": log_path, "database": throwaway_database}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def start_workers(environment, log_path, count):
    """``count`` deliver_email workers whose mail server fails at FAILURE_RATE."""
    with open(log_path, "a") as log:
        return [
            subprocess.Popen(
                [sys.executable, "manage.py", "deliver_email", "--sleep", "0.5"],
                cwd=ROOT,
                env={**environment, "FLAKY_MAIL_FAILURE_RATE": str(FAILURE_RATE)},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for _ in range(count)
        ]


def test_bookings_under_load_with_a_flaky_mail_server_are_kept_and_mailed_once(site):
    started = time.monotonic()
    deadline = started + TIME_LIMIT
    lock = threading.Lock()
    numbers = iter(range(1, REQUESTS + 1))

    def claim():
        with lock:
            if time.monotonic() > deadline:
                return None
            return next(numbers, None)

    worker_log = site["log"].with_name("workers.log")
    workers = start_workers(site["env"], worker_log, 2)
    results = []
    visitors = [
        Visitor(site["port"], n, claim, results, site["env"]["SECRET_KEY"]) for n in range(CLIENTS)
    ]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join(timeout=TIME_LIMIT + 60)
    load_seconds = time.monotonic() - started

    # Let the workers finish their pass (SIGTERM is a graceful stop), then recover.
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=120)
    worker_errors = worker_log.read_text()
    assert [worker.returncode for worker in workers] == [0, 0], worker_errors[-3000:]
    assert "Traceback" not in worker_errors, worker_errors[-3000:]
    failures_injected = len(read_lines(site["env"]["FLAKY_MAIL_FAILURES"]))
    delivered_under_load = len(read_lines(site["env"]["FLAKY_MAIL_LOG"]))
    subprocess.run(
        [sys.executable, "manage.py", "deliver_email", "--once", "--retry-now"],
        cwd=ROOT,
        env={**site["env"], "FLAKY_MAIL_FAILURE_RATE": "0"},
        check=True,
        capture_output=True,
    )
    duration = time.monotonic() - started

    statuses = Counter(status for _, status, _ in results)
    accepted = {}
    for number, status, location in results:
        if status == 302:
            match = CONFIRMATION.match(location)
            assert match, f"submission {number} was sent to {location}"
            accepted[number] = match.group(1)
    stored = fetch_all(
        site["database"], "SELECT reference, email FROM consultations_consultationrequest"
    )
    outbox = fetch_all(
        site["database"], "SELECT id, status, attempts FROM consultations_outgoingemail"
    )
    delivered = Counter(
        int(re.match(r"<outbox-(\d+)\.", line).group(1))
        for line in read_lines(site["env"]["FLAKY_MAIL_LOG"])
    )
    log = site["log"].read_text()

    record(
        "load and faults",
        f"load and faults: {len(results)} booking submissions from {CLIENTS} clients in "
        f"{load_seconds:.1f} s ({len(results) / load_seconds:.0f}/s); responses "
        f"{dict(sorted(statuses.items(), key=str))}; accepted {len(accepted)}; kept "
        f"{len(stored)}; outgoing messages {len(outbox)}; delivered under load "
        f"{delivered_under_load}, after recovery {sum(delivered.values())}; mail failures "
        f"injected {failures_injected}; total duration {duration:.1f} s",
    )

    assert len(results) >= REQUESTS, "fewer than 2,000 submissions within the time limit"
    assert set(statuses) == {302}, f"unexpected responses: {statuses}"
    # Every accepted booking is stored exactly once, and nothing else is.
    assert len(stored) == len(accepted)
    assert sorted(reference for reference, _ in stored) == sorted(accepted.values())
    assert {email for _, email in stored} == {f"load-{n}@example.com" for n in accepted}
    # Two messages per booking (the visitor's confirmation and the staff's),
    # each delivered exactly once, none left behind.
    assert len(outbox) == 2 * len(accepted)
    assert {status for _, status, _ in outbox} == {"sent"}
    assert delivered == Counter({pk: 1 for pk, _, _ in outbox})
    assert failures_injected > 0, "the mail server never failed"
    assert sum(attempts for _, _, attempts in outbox) == len(outbox) + failures_injected
    # No worker crashed or was restarted: two booted, none exited early or timed out.
    assert log.count("Booting worker") == 2, log[-3000:]
    for sign in ("WORKER TIMEOUT", "Worker exiting", "Traceback", "was sent SIGKILL", "[ERROR]"):
        assert sign not in log, log[-3000:]

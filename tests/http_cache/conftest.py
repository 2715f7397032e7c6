"""A real Varnish (deploy/varnish/site.vcl) in front of a real gunicorn with
production settings, a task worker beside them, all on one throwaway
PostgreSQL database with the demo content, on free ports of 127.0.0.1."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from bench.varnish import Varnish, varnishd_path
from tests.support.databases import throwaway_postgresql_database
from tests.support.faults import free_port, wait_until_up
from tests.support.missing import skip_or_fail_in_ci

ROOT = Path(settings.BASE_DIR)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def redis_is_up():
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


class CachedSite:
    """The servers of one test module: Varnish at ``url``, gunicorn at ``backend_url``."""

    def __init__(self, workdir, database_url):
        self.workdir = workdir
        self.database_url = database_url
        self.backend_port = free_port()
        self.varnish = Varnish(
            workdir / "varnish", port=free_port(), backend_port=self.backend_port
        )
        self.access_log = workdir / "access.log"
        self.password = secrets.token_urlsafe(16)
        self.environment = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "SECURE_SSL_REDIRECT": "0",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "4",
            "PORT": str(self.backend_port),
            "GUNICORN_ACCESS_LOG": str(self.access_log),
            "TRUSTED_PROXY_COUNT": "1",
            "HTTP_CACHE_PURGE_URLS": f"{self.varnish.url}/",
            "HTTP_CACHE_PURGE_TIMEOUT_MS": "500",
            "HTTP_CACHE_PURGE_RETRY_SECONDS": "1",
            # Every process shares the page cache's content version, as in production.
            "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/9",
            "CACHE_KEY_PREFIX": f"http-cache-{secrets.token_hex(4)}",
        }
        self.backend = self.worker = None

    @property
    def url(self):
        return self.varnish.url

    @property
    def backend_url(self):
        return f"http://127.0.0.1:{self.backend_port}"

    def manage(self, *args, **extra):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.environment, **extra},
            check=True,
            capture_output=True,
            text=True,
        )

    def start_backend(self, **extra):
        self.backend = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "compare_site.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env={**self.environment, **extra},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until_up(self.backend_url)
        # Varnish's probe must have seen it too (2 good probes of 3, a second apart).
        wait_until_up(self.url)

    def stop_backend(self):
        stop(self.backend)

    def start_worker(self):
        self.worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"],
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def renders(self, path):
        """How many times gunicorn answered ``path`` (its access log)."""
        if not self.access_log.exists():
            return 0
        return sum(f'"GET {path} ' in line for line in self.access_log.read_text().splitlines())

    def purges(self):
        """The purge outbox, oldest first: (keys, status, attempts, last_error) per row."""
        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://")) as db:
            return db.execute(
                "SELECT keys, status, attempts, last_error FROM comparisons_cachepurge ORDER BY id"
            ).fetchall()


def stop(process):
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def get(url, headers=None, timeout=10):
    """(status, headers, body) of a GET, errors included, redirects not followed."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def wait_for(condition, timeout=10, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


@pytest.fixture(scope="module")
def cached_site(tmp_path_factory, collected_static):
    if varnishd_path() is None:
        skip_or_fail_in_ci(
            "varnishd is not installed: apt-get install varnish varnish-modules "
            "(.ci/run does it in CI)."
        )
    if not redis_is_up():
        skip_or_fail_in_ci(f"Redis is not answering on {REDIS_HOST}:{REDIS_PORT}.")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        skip_or_fail_in_ci("The HTTP cache tests need PostgreSQL: set DATABASE_URL (CI does).")
    with throwaway_postgresql_database(database_url, "compare_http_cache") as url:
        site = CachedSite(tmp_path_factory.mktemp("http-cache"), url)
        site.manage("migrate", "--noinput")
        site.manage("load_demo")
        site.manage(
            "createsuperuser",
            "--noinput",
            "--username=editor",
            "--email=editor@example.org",
            DJANGO_SUPERUSER_PASSWORD=site.password,
        )
        try:
            site.varnish.start()
            site.start_backend()
            site.start_worker()
            yield site
        finally:
            stop(site.worker)
            site.stop_backend()
            site.varnish.stop()

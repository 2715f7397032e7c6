"""Real things that fail, for fault tests: our own redis-server, a hanging socket, a closed port."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from compare_site.settings import REDIS_TIMEOUT_SECONDS, fail_open_redis_cache
from tests.support.missing import skip_or_fail_in_ci

ROOT = Path(settings.BASE_DIR)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port():
    """A port nothing listens on: connecting is refused at once."""
    return free_port()


class HangingSocket:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung Redis or PostgreSQL)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            self.accepted.append(connection)  # held open, never read or answered

    def close(self):
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def hanging_socket():
    hanging = HangingSocket()
    yield hanging
    hanging.close()


class RedisServer:
    """A redis-server of our own on a free port, which a test may kill and start again."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    """A running redis-server (skipped without the binary, except in CI)."""
    if shutil.which("redis-server") is None:
        skip_or_fail_in_ci("redis-server is not installed (apt-get install redis-server).")
    server = RedisServer().start()
    yield server
    server.kill()


def fail_open_cache(location, retry_seconds=5):
    """CACHES for the fail-open Redis backend at ``location``, as production builds it."""
    return {
        "default": fail_open_redis_cache(
            location, timeout_seconds=REDIS_TIMEOUT_SECONDS, retry_seconds=retry_seconds
        )
    }


@pytest.fixture
def cache_down(settings, monkeypatch):
    """The site's cache is Redis on a closed port, as when Redis has died."""
    import compare_site.cache

    # Each test meets the outage afresh: no circuit state from an earlier test.
    monkeypatch.setattr(compare_site.cache, "_circuits", {})
    settings.CACHES = fail_open_cache(f"redis://127.0.0.1:{closed_port()}/0")


def production_environment(**overrides):
    """The environment of a production server on 127.0.0.1 (DEBUG off, plain HTTP).

    The server shares this process's SECRET_KEY, so that tests can sign what
    the server checks (the booking form's render time).
    """
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "LOG_LEVEL": "INFO",
    }
    environment.pop("REDIS_URL", None)
    environment.update(overrides)
    return environment


def manage(environment, *args):
    """Run ``manage.py *args`` in a process of its own with ``environment``; its output."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def wait_until_up(base, server=None, log_path=None):
    """Wait (30 s at most) until the server at ``base`` answers /livez; the
    server's log tail goes into the failure when it never does or it exits."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/livez", timeout=1):
                return
        except OSError:
            exited = server is not None and server.poll() is not None
            if time.monotonic() > deadline or exited:
                log = log_path.read_text()[-2000:] if log_path else ""
                raise AssertionError(f"{base} did not start: {log}") from None
            time.sleep(0.2)


@contextmanager
def gunicorn(environment, log_path):
    """A real gunicorn (gunicorn.conf.py) on a free port; yields its base URL."""
    port = free_port()
    with open(log_path, "a") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "compare_site.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env={**environment, "PORT": str(port)},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, log_path)
        yield base
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

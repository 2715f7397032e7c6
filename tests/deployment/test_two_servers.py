"""Two gunicorn servers share one database and one Redis cache, as in production.

An editor's change saved through the admin of server A must be served by
server B on the very next request, although B had the old page cached.
The servers run with production settings over real HTTP on 127.0.0.1.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.databases import throwaway_database_url
from tests.support.faults import free_port, wait_until_up
from tests.support.http_client import Browser, FormReader
from tests.support.missing import skip_or_fail_in_ci

ROOT = Path(settings.BASE_DIR)
SEED_PATH = "/compare/pytorch-vs-tensorflow/"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379

pytestmark = pytest.mark.slow


def redis_is_up():
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def shared_site(tmp_path):
    """A migrated database with the demo content, two servers, one shared cache."""
    if not redis_is_up():
        skip_or_fail_in_ci(
            f"Redis is not answering on {REDIS_HOST}:{REDIS_PORT}. "
            "Start it to run the two-server test."
        )

    with throwaway_database_url("compare_two_servers", tmp_path / "shared.sqlite3") as url:
        yield from serve_twice(url)


def serve_twice(database_url):
    """Two gunicorn servers on one database and one Redis; yields their addresses."""
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/9",
        "CACHE_KEY_PREFIX": f"two-servers-{uuid.uuid4().hex[:8]}",
        "SECURE_SSL_REDIRECT": "0",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    }
    password = secrets.token_urlsafe(16)

    def manage(*args, **extra):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**environment, **extra},
            check=True,
            capture_output=True,
        )

    manage("migrate", "--noinput")
    manage("load_demo")
    manage(
        "createsuperuser",
        "--noinput",
        "--username=editor",
        "--email=editor@example.org",
        DJANGO_SUPERUSER_PASSWORD=password,
    )

    servers = []
    try:
        for _ in range(2):
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "compare_site.wsgi", "-c", "gunicorn.conf.py"],
                cwd=ROOT,
                env={**environment, "PORT": str(port)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            servers.append((server, f"http://127.0.0.1:{port}"))
        for _, base in servers:
            wait_until_up(base)
        yield [base for _, base in servers], password
    finally:
        for server, _ in servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=20)


def test_an_edit_through_one_server_is_served_by_the_other(shared_site):
    (server_a, server_b), password = shared_site
    visitor = Browser(server_b)
    status, page = visitor.request(SEED_PATH)
    assert status == 200
    assert "PyTorch wins for research and DX." in page
    # Server B now has the page in the shared cache and in its own memory.
    assert visitor.request(SEED_PATH)[1] == page

    editor = Browser(server_a)
    assert editor.sign_in("editor", password), "the editor could not sign in"
    status, changelist = editor.request("/admin/comparisons/comparison/")
    change_path = re.search(r'href="(/admin/comparisons/comparison/\d+/change/)"', changelist)
    status, form_page = editor.request(change_path.group(1))
    reader = FormReader()
    reader.feed(form_page)
    new_verdict = "Edited on server A: JAX is worth a look too."
    fields = [
        (name, new_verdict if name == "quick_verdict" else value)
        for name, value in reader.fields
        if value is not None
    ]
    status, body = editor.request(change_path.group(1), fields)
    assert status == 302, re.findall(r'class="errorlist[^"]*">(.*?)</ul>', body, re.S)

    status, page = visitor.request(SEED_PATH)
    assert status == 200
    assert new_verdict in page
    assert "PyTorch wins for research and DX. TensorFlow remains" in page  # recommendation

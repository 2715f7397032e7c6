"""CPU per request, in-process: ``python bench/profile_requests.py PATH... [--profile]``.

Each path is requested through Django's WSGI handler with production settings
(DEBUG off, Redis as the cache, as bench/run.py sets them) against DATABASE_URL,
a few times to warm up and then ``--requests`` times; it prints the median and
least CPU time (time.process_time: what this process spent, whatever else the
shared machine runs) and wall time per request. ``--profile`` adds cProfile's
functions by cumulative time. ``--user NAME`` requests as that user, signed in
(a session made for them, as a login would), for staff pages such as the
triage queue. Needs collected static files (bench/run.py collects them).
"""

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def signed_in_cookie(username):
    """The Cookie header of a session signed in as ``username``, as login() writes it."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="e.g. /search/?q=pytroch")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--lines", type=int, default=40, help="functions --profile shows")
    parser.add_argument("--user", help="username to sign in as, e.g. bench-triager")
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="compare_site.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
    )
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench-profile")

    from django.core.wsgi import get_wsgi_application

    handler = get_wsgi_application()
    cookie = signed_in_cookie(args.user) if args.user else ""

    def get(path):
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": sys.stdin.buffer,
            "HTTP_COOKIE": cookie,
        }
        statuses = []
        body = b"".join(handler(environ, lambda status, headers: statuses.append(status)))
        return statuses[0], body

    for path in args.paths:
        for _ in range(5):
            status, body = get(path)
        cpu, wall = [], []
        profile = cProfile.Profile(time.process_time) if args.profile else None
        for _ in range(args.requests):
            if profile:
                profile.enable()
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            get(path)
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
            if profile:
                profile.disable()
        cpu.sort()
        wall.sort()
        middle = len(cpu) // 2
        print(
            f"{path}: {status}, {len(body):,} bytes; CPU median {cpu[middle] * 1000:.1f} ms, "
            f"least {cpu[0] * 1000:.1f} ms; wall median {wall[middle] * 1000:.1f} ms"
            + (" (profiled: slower)" if profile else "")
        )
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.lines)


if __name__ == "__main__":
    main()

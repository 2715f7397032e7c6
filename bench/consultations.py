"""Benchmark targets 5 and 6: booking submissions and the triage queue, and how
the queue and the report grow with the number of requests (GROWTH_REQUESTS)."""

import argparse
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import loadgen

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BOOKING_PATH = "/consultations/book/"
QUEUE_PATH = "/admin/consultations/consultationrequest/"
REPORT_PATH = "/consultations/staff/report/"
# Triagers working at once: the queue's budget is a p99 under 150 ms with 4.
TRIAGERS = 4
REPORT_BUILDS = 5


def cookies_from(headers):
    cookies = {}
    for header in headers.get_all("Set-Cookie") or []:
        name, value = header.split(";", 1)[0].split("=", 1)
        cookies[name] = value
    return cookies


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def open_url(url, data=None, headers=None):
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    return response, response.read().decode()


def business_slots(count, now=None):
    """The next ``count`` weekday slots the booking form accepts (in UTC)."""
    moment = (now or datetime.now(UTC)) + timedelta(days=1)
    slots = []
    while len(slots) < count:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            slots.append(moment.replace(hour=10, minute=0, second=0, microsecond=0))
    return [slot.strftime("%Y-%m-%dT%H:%M") for slot in slots]


def booking_form(base):
    """The form's hidden values and the CSRF cookie, as a browser would have them."""
    response, page = open_url(f"{base}{BOOKING_PATH}?comparison=pytorch-vs-tensorflow")
    assert response.status == 200, response.status
    cookies = cookies_from(response.headers)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    window_1, window_2 = business_slots(2)
    fields = {
        "csrfmiddlewaretoken": token,
        "rendered": "RENDERED_PLACEHOLDER",
        "name": "Bench Visitor",
        "email": "EMAIL_PLACEHOLDER",
        "company": "Benchmark Ltd",
        "comparison": "pytorch-vs-tensorflow",
        "topic": "",
        "message": "We need to pick a framework for a new computer vision product.",
        "timezone": "UTC",
        "window_1": window_1,
        "window_2": window_2,
        "window_3": "",
        "consent": "on",
        "website": "",
    }
    body = urllib.parse.urlencode(fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookies['csrftoken']}",
    }
    return body, headers


# More render tokens than any run books: each booking spends one (a form
# shown once books once), so a run that reused one would measure refusals.
RENDER_TOKENS = 50_000


def django_shell(environment, code):
    """What ``code`` prints, run by manage.py shell with the server's settings
    (-v 0: without the banner of automatic imports)."""
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def render_tokens(environment, path):
    """Sign RENDER_TOKENS form tokens with the server's key, one a line in ``path``."""
    code = (
        "from consultations.abuse import sign_render_time;"
        f"print('\\n'.join(sign_render_time() for _ in range({RENDER_TOKENS})))"
    )
    output = django_shell(environment, code)
    path.write_text(output)
    return output.split()


def count_bookings(environment, run_id):
    code = (
        "from consultations.models import ConsultationRequest as R, OutgoingEmail as E;"
        f"rows = R.objects.filter(email__startswith='bench-{run_id}-');"
        "print(rows.count(), rows.values('email').distinct().count(),"
        " E.objects.filter(request__in=rows).count())"
    )
    return [int(value) for value in django_shell(environment, code).split()]


def triager_session(base, environment):
    """Log a triager in over HTTP; returns the Cookie header for the queue."""
    password = secrets.token_urlsafe(16)
    code = (
        "from django.contrib.auth.models import Group, User;"
        "user, _ = User.objects.get_or_create(username='bench-triager', "
        "defaults={'is_staff': True});"
        f"user.set_password('{password}'); user.is_staff = True; user.save();"
        "user.groups.add(Group.objects.get(name='Triage'))"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=environment, check=True
    )
    response, page = open_url(f"{base}/admin/login/")
    cookies = cookies_from(response.headers)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "bench-triager", "password": password}
    ).encode()
    response, _ = open_url(
        f"{base}/admin/login/?next=/admin/",
        data=data,
        headers={"Cookie": f"csrftoken={cookies['csrftoken']}"},
    )
    assert response.status == 302, "the triager could not log in"
    cookies.update(cookies_from(response.headers))
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def measure(base, args, environment, load):
    results = {}
    if "booking" in args.targets:
        results.update(measure_booking(base, args, environment, load))
    if "triage" in args.targets:
        results.update(measure_triage(base, args, environment, load))
    return results


def measure_booking(base, args, environment, load):
    results = {}
    print("measuring 5. booking submissions ...", flush=True)
    body, headers = booking_form(base)
    run_id = secrets.token_hex(4)
    with tempfile.TemporaryDirectory() as scratch:
        tokens_path = Path(scratch) / "render-tokens.txt"
        tokens = render_tokens(environment, tokens_path)
        if args.generator == "wrk":
            script = [str(BENCH / "booking.lua"), "--", body, run_id, str(tokens_path)]
            script.append(str(loadgen.wrk_threads(args.connections)))
            result = load(base + BOOKING_PATH, args, headers=headers, script=script)
        else:

            def unique_body(sequence, _template=body, _run=run_id, _tokens=tokens):
                email = urllib.parse.quote(f"bench-{_run}-{sequence}@example.org")
                token = urllib.parse.quote(_tokens[sequence])
                filled = _template.replace("EMAIL_PLACEHOLDER", email)
                return filled.replace("RENDERED_PLACEHOLDER", token).encode()

            result = load(
                base + BOOKING_PATH, args, headers=headers, method="POST", body_factory=unique_body
            )
            result["accepted"] = result["statuses"].get(302, 0)
    rows, distinct, emails = count_bookings(environment, run_id)
    accepted = result.get("accepted", 0)
    # Requests still in flight when the clock stopped are saved but not counted
    # as accepted, so the database may hold a few more than were acknowledged.
    missing = max(0, accepted - distinct)
    result["rows_in_database"] = rows
    result["duplicate_rows"] = rows - distinct
    result["missing_from_database"] = missing
    result["outgoing_emails"] = emails
    result["notes"] = (
        f"accepted {accepted}, rows {rows}, missing {missing}, duplicates {rows - distinct}"
    )
    result["notes"] += "; budget: ratio >= 0.1, 0 missing"
    results["5. booking submissions (POST)"] = result
    return results


def measure_triage(base, args, environment, load):
    results = {}
    print("measuring 6. triage queue (admin, 100k requests) ...", flush=True)
    cookie = triager_session(base, environment)
    response, page = open_url(base + QUEUE_PATH, headers={"Cookie": cookie})
    assert response.status == 200 and "consultation request" in page.lower(), response.status
    result = load(base + QUEUE_PATH, args, headers={"Cookie": cookie})
    result["notes"] = "p99 budget: under 150 ms"
    results["6. triage queue (logged-in triager)"] = result

    # The same page for one triager alone: its own cost, without queueing
    # behind the other connections on this 2-core machine.
    print("measuring 6b. triage queue, one connection ...", flush=True)
    alone = argparse.Namespace(**{**vars(args), "connections": 1})
    result = load(base + QUEUE_PATH, alone, headers={"Cookie": cookie})
    result["notes"] = "1 connection (context, not the budget figure)"
    results["6b. triage queue, one connection"] = result
    return results


def requests_database_url(url, size):
    """The database holding ``size`` requests and nothing else, beside ``url``'s."""
    base, _, name = url.rpartition("/")
    return f"{base}/{name}_requests_{size}"


def report_build_ms(base, cookie):
    """Wall-clock milliseconds of REPORT_BUILDS sequential report pages (all figures)."""
    timings = []
    for _ in range(REPORT_BUILDS):
        started = time.perf_counter()
        response, page = open_url(base + REPORT_PATH, headers={"Cookie": cookie})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status == 200 and "Breaches" in page, response.status
    return sorted(timings)


def measure_growth(args, environment, load, *, ensure_database, manage, start_server, stop_server):
    """The triage queue (TRIAGERS and args.connections at once) and the report build,
    each at every size in args.growth_requests, each size in a database of its own
    (generated once, reused after). Rows for the "how cost grows" table."""
    rows = []
    port = args.port + 1
    base = f"http://127.0.0.1:{port}"
    for size in args.growth_requests:
        url = requests_database_url(args.database_url, size)
        sized = {**environment, "DATABASE_URL": url, "PORT": str(port)}
        sized["CACHE_KEY_PREFIX"] = f"bench-requests-{size}"
        ensure_database(url)
        manage(sized, "migrate", "--noinput", "-v0")
        manage(sized, "generate_bench_requests", f"--requests={size}")
        server = start_server(sized, port)
        try:
            cookie = triager_session(base, sized)
            open_url(base + QUEUE_PATH, headers={"Cookie": cookie})  # warm up
            for connections in (TRIAGERS, args.connections):
                print(f"measuring triage queue, {size:,} requests, {connections} ...", flush=True)
                at = argparse.Namespace(**{**vars(args), "connections": connections})
                result = load(base + QUEUE_PATH, at, headers={"Cookie": cookie})
                budget = "p99 budget: under 150 ms" if connections == TRIAGERS else ""
                rows.append({"target": "triage queue", "size": f"{size:,} requests",
                             "connections": connections, **result, "notes": budget})  # fmt: skip
            print(f"measuring report build, {size:,} requests ...", flush=True)
            timings = report_build_ms(base, cookie)
            rows.append(
                {
                    "target": "report build (page, all figures)",
                    "size": f"{size:,} requests",
                    "connections": 1,
                    "rps": 1000 / statistics.median(timings),
                    "p50_ms": statistics.median(timings),
                    "p99_ms": timings[-1],
                    "notes": f"{REPORT_BUILDS} builds, slowest as p99; budget: under 2,000 ms",
                }
            )
        finally:
            stop_server(server)
    return rows

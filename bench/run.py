"""`make bench`: measure the production set-up on this machine, in one run.

Steps: make sure the PostgreSQL database exists, migrate, collect static files,
generate the data set (reused when present), write the seed page's exact bytes
as a static file (the ceiling), start gunicorn with production settings, load
each target over HTTP from a separate process with the same concurrency and
duration, and print a table (also written as JSON) in which every figure is
also a ratio to the ceiling measured in the same run.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import consultations, loadgen, varnish  # noqa: E402

PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/compare_bench"
CEILING_PATH = "bench/seed-page.html"
LOG_DIR = ROOT / "bench-results"
# Weighted views, each in its one spelling (a weighted view is cached like the plain one).
SEED_WEIGHTED = (
    "/compare/pytorch-vs-tensorflow/?w=production-deployment:critical,edge-mobile:critical"
)
FRAMEWORK_PAGE = "/frameworks/pytorch/"
BENCH_WEIGHTED = "/compare/bench-00001/?w=factor-2:critical,factor-7:ignore,factor-31:important"
# A category hub of the bench data (generate_bench_data spreads comparisons over four),
# on a later page: a hub's first page is not its only cost.
BENCH_HUB = "/categories/databases/?page=2"
# Search is never page-cached: each request runs the queries. A term in every
# generated comparison (each title says "benchmark comparison"), so that the
# page ranks the whole catalogue, and a typo of a framework name.
SEARCH_COMMON = "/search/?q=benchmark+comparison"
SEARCH_TYPO = "/search/?q=pytroch"


def production_environment(args):
    environment = os.environ.copy()
    environment.update(
        {
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": "bench",
            # Plain HTTP on loopback: TLS is the proxy's job in production.
            "SECURE_SSL_REDIRECT": "0",
            "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_THREADS": str(args.threads),
            "PORT": str(args.port),
            # The benchmark sends thousands of bookings from one address.
            "CONSULTATION_BOOKINGS_PER_IP_HOUR": "100000000",
            "CONSULTATION_BOOKINGS_PER_EMAIL_HOUR": "100000000",
            "CONSULTATION_MIN_FILL_SECONDS": "0",
        }
    )
    return environment


def ensure_database(url):
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        return
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def manage(environment, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=environment, check=True)


def port_in_use(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_server(environment, port):
    # Another server on the port would answer /livez for this one, and be measured.
    if port_in_use(port):
        raise SystemExit(f"Port {port} is in use: pick another with --port.")
    # The server's log goes to a file: a pipe nobody reads fills up, and then
    # every worker blocks on its next log line.
    LOG_DIR.mkdir(exist_ok=True)
    log = open(LOG_DIR / f"gunicorn-{port}.log", "ab")  # noqa: SIM115
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "compare_site.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    server.log_path = log.name
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    tail = Path(server.log_path).read_bytes()[-2000:].decode(errors="replace")
    raise SystemExit(f"gunicorn did not start: {tail}")


def stop_server(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(url, *, connections, duration, headers=(), script=None):
    command = [
        "wrk",
        f"-t{loadgen.wrk_threads(connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
    ]
    for header in headers:
        command += ["-H", header]
    script_args = []
    if script:
        # A script path, optionally followed by "--" and the script's own arguments.
        script, *script_args = [script] if isinstance(script, str) else script
        command += ["-s", script]
    output = subprocess.run(
        command + [url, *script_args], capture_output=True, text=True, check=True
    ).stdout

    def latency(percent):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return float(match.group(1)) * UNITS[match.group(2)] if match else None

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "non_2xx_3xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
    }
    accepted = re.search(r"^accepted (\d+)$", output, re.M)
    if accepted:
        result["accepted"] = int(accepted.group(1))
    return result


def load(url, args, *, headers=None, script=None, method="GET", body_factory=None, warm=True):
    """Load ``url`` for args.duration at args.connections; the figures of that run.

    ``warm``: first, one second at one connection per worker thread, not measured,
    so that every worker has served the page (compiled its templates, opened its
    database connection) before the measured run, whose connections may land on
    any worker. Off for writes, and for a cache whose cold state is measured."""
    headers = headers or {}
    if warm and method == "GET" and script is None:
        threads = argparse.Namespace(
            **{**vars(args), "connections": args.workers * args.threads, "duration": 1}
        )
        load(url, threads, headers=headers, warm=False)
    if args.generator == "wrk":
        return run_wrk(
            url,
            connections=args.connections,
            duration=args.duration,
            headers=[f"{k}: {v}" for k, v in headers.items()],
            script=script,
        )
    return loadgen.run(
        url,
        connections=args.connections,
        duration=args.duration,
        headers=headers,
        method=method,
        body_factory=body_factory,
    )


def write_ceiling_file(environment, args):
    """Save the seed page's exact bytes where whitenoise serves static files."""
    server = start_server(environment, args.port)
    try:
        status, _, body = fetch(f"http://127.0.0.1:{args.port}/compare/pytorch-vs-tensorflow/")
    finally:
        stop_server(server)
    assert status == 200, status
    target = ROOT / "staticfiles" / CEILING_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    return body


def static_budget(base_url):
    """Sizes and headers the budget names: page HTML, compressed CSS, cache lifetime."""
    _, _, page = fetch(f"{base_url}/compare/pytorch-vs-tensorflow/")
    css_path = re.search(rb'href="(/static/css/site\.[0-9a-f]+\.css)"', page).group(1).decode()
    _, css_headers, css_gzip = fetch(base_url + css_path, {"Accept-Encoding": "gzip"})
    blocking_scripts = [
        tag
        for tag in re.findall(rb"<script\b[^>]*>", page)
        # Data blocks (JSON-LD) do not run; deferred or async scripts do not block.
        if b"application/ld+json" not in tag and b" defer" not in tag and b" async" not in tag
    ]
    return {
        "seed_page_html_bytes": len(page),
        "css_path": css_path,
        "css_bytes_compressed": len(css_gzip),
        "css_content_encoding": css_headers.get("Content-Encoding", ""),
        "css_cache_control": css_headers.get("Cache-Control", ""),
        "render_blocking_scripts": len(blocking_scripts),
    }


# Saves the seed comparison's subtitle with a marker, as an editor's save does (its
# purge reaches Varnish on commit), and times until Varnish serves the new page.
EDIT_TO_VISIBLE = """
import statistics, time, urllib.request, uuid
from comparisons.models import Comparison
url = {url!r}
comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow")
original, times = comparison.subtitle, []
for _ in range({rounds}):
    urllib.request.urlopen(url).read()
    marker = uuid.uuid4().hex
    started = time.monotonic()
    comparison.subtitle = original + " " + marker
    comparison.save()
    while marker.encode() not in urllib.request.urlopen(url).read():
        if time.monotonic() - started > 10:
            raise SystemExit("The edit was not visible through Varnish after 10 s.")
        time.sleep(0.001)
    times.append(time.monotonic() - started)
comparison.subtitle = original
comparison.save()
print("edit-to-visible", statistics.median(times), max(times))
"""


def varnish_stat(instance, field):
    output = subprocess.run(
        ["varnishstat", "-n", str(instance), "-1", "-f", field],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(output.split()[1])


def measure_through_varnish(args, environment):
    """The seed page and the static file through Varnish (deploy/varnish/site.vcl) in
    front of the running gunicorn; the rate right after a purge, with the backend
    fetches Varnish made meanwhile (request coalescing: one); edit-to-visible."""
    if varnish.varnishd_path() is None:
        print("varnishd is not installed: the targets through Varnish are left out.")
        return {}
    import tempfile

    results = {}
    seed = "/compare/pytorch-vs-tensorflow/"
    with tempfile.TemporaryDirectory(prefix="bench-varnish-") as workdir:
        cache = varnish.Varnish(workdir, port=args.varnish_port, backend_port=args.port).start()
        try:
            for path in (seed, f"/static/{CEILING_PATH}"):
                fetch(cache.url + path)
            targets = [
                ("8a. static file through Varnish (cache ceiling)", f"/static/{CEILING_PATH}"),
                ("8b. seed page through Varnish", seed),
            ]
            for name, path in targets:
                print(f"measuring {name} ...", flush=True)
                results[name] = load(cache.url + path, args, warm=False)
            static_rps = results[targets[0][0]]["rps"]
            ratio = results[targets[1][0]]["rps"] / static_rps
            results[targets[1][0]]["notes"] = (
                f"{ratio:.2f} of the static file through Varnish (budget: at least 0.8)"
            )

            name = "8c. seed page right after its purge"
            print(f"measuring {name} ...", flush=True)
            _, headers, _ = fetch(args_backend(args) + seed)
            keys = headers["xkey"]
            state = Path(workdir) / "state"
            before = varnish_stat(state, "MAIN.backend_req")
            request = urllib.request.Request(
                cache.url + "/", method="PURGE", headers={"xkey": keys}
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                purged = response.reason
            results[name] = load(cache.url + seed, args, warm=False)
            fetches = varnish_stat(state, "MAIN.backend_req") - before
            results[name]["notes"] = (
                f"{purged.strip()} then {args.connections} clients: "
                f"{fetches} backend fetch(es) for the page (request coalescing)"
            )

            print("measuring 8d. edit-to-visible ...", flush=True)
            script = EDIT_TO_VISIBLE.format(url=cache.url + seed, rounds=5)
            output = subprocess.run(
                [PYTHON, "manage.py", "shell", "-c", script],
                cwd=ROOT,
                # This save goes through the app's purge, to this Varnish.
                env={**environment, "HTTP_CACHE_PURGE_URLS": f"{cache.url}/"},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            median, worst = map(float, output.split("edit-to-visible", 1)[1].split())
            results["8d. edit-to-visible (save to fresh page)"] = {
                "rps": 0.0,
                "p50_ms": median * 1000,
                "p99_ms": None,
                "notes": f"median of 5 (worst {worst * 1000:.0f} ms); budget: under 1,000 ms",
            }
        finally:
            cache.stop()
    return results


def args_backend(args):
    return f"http://127.0.0.1:{args.port}"


def print_table(results, ceiling_rps):
    print()
    print(f"{'target':<44} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8}  notes")
    print("-" * 100)
    for name, result in results.items():
        ratio = result["rps"] / ceiling_rps if ceiling_rps else 0
        p50 = f"{result['p50_ms']:.2f}" if result.get("p50_ms") is not None else "-"
        p99 = f"{result['p99_ms']:.2f}" if result.get("p99_ms") is not None else "-"
        notes = result.get("notes", "")
        print(f"{name:<44} {result['rps']:>9.1f} {ratio:>7.2f} {p50:>8} {p99:>8}  {notes}")


def print_growth_table(rows):
    """How cost grows with the data: one row per target, data size and concurrency."""
    print()
    print("How cost grows")
    print(
        f"{'target':<34} {'data':<22} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  notes"
    )
    print("-" * 110)
    for row in rows:
        p50 = f"{row['p50_ms']:.2f}" if row.get("p50_ms") is not None else "-"
        p99 = f"{row['p99_ms']:.2f}" if row.get("p99_ms") is not None else "-"
        print(
            f"{row['target']:<34} {row['size']:<22} {row['connections']:>5} {row['rps']:>9.1f} "
            f"{p50:>8} {p99:>8}  {row.get('notes', '')}"
        )


def published_comparisons(url):
    """How many published comparisons the database at ``url`` holds (None: not migrated)."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        dbname=config["NAME"],
    ) as connection:
        row = connection.execute(
            "SELECT count(*) FROM comparisons_comparison WHERE status = 'published'"
        ).fetchone()
    return row[0]


# The growth table's page rows: (target, path, one connection?). Search's budget is
# for one client (its own cost); the cached pages are measured at --connections.
CATALOGUE_TARGETS = [
    ("seed page", "/compare/pytorch-vs-tensorflow/", False),
    ("home page", "/", False),
    ("search, common term", SEARCH_COMMON, True),
    ("search, typo", SEARCH_TYPO, True),
]


def measure_catalogues(args, environment, ceiling_rps):
    """The seed page, home and search in each database of args.catalogues, as they
    are (the data is generated once, by a run with that --database-url and its
    --comparisons): rows for the "how cost grows" table, largest catalogue last."""
    rows = []
    port = args.port + 2
    base = f"http://127.0.0.1:{port}"
    sized = []
    for url in args.catalogues:
        count = published_comparisons(url)
        if not count:
            raise SystemExit(
                f"{url} holds no comparisons: generate them once with "
                f"make bench BENCH_ARGS='--database-url {url} --comparisons N --targets pages'"
            )
        sized.append((count, url))
    for count, url in sorted(sized):
        database = url.rpartition("/")[2]
        catalogue = {**environment, "DATABASE_URL": url, "PORT": str(port)}
        catalogue["CACHE_KEY_PREFIX"] = f"bench-catalogue-{database}"
        manage(catalogue, "migrate", "--noinput", "-v0")
        server = start_server(catalogue, port)
        try:
            for target, path, alone in CATALOGUE_TARGETS:
                status, _, _ = fetch(base + path)  # warm the cache, check it answers
                assert status == 200, (url, path, status)
                connections = 1 if alone else args.connections
                print(f"measuring {target}, {count:,} comparisons, {connections} ...", flush=True)
                at = argparse.Namespace(**{**vars(args), "connections": connections})
                result = load(base + path, at)
                notes = f"{database}; {result['rps'] / ceiling_rps:.2f} of the ceiling"
                if alone:
                    notes += "; p99 budget: under 50 ms"
                rows.append({"target": target, "size": f"{count:,} comparisons",
                             "connections": connections, **result, "notes": notes})  # fmt: skip
        finally:
            stop_server(server)
    # Each target's sizes together, smallest first.
    order = [target for target, _, _ in CATALOGUE_TARGETS]
    return sorted(rows, key=lambda row: order.index(row["target"]))


def comma_list(convert):
    return lambda text: [convert(item) for item in text.split(",") if item]


TARGETS = ["pages", "booking", "triage", "growth"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8090")))
    parser.add_argument(
        "--varnish-port", type=int, default=int(os.environ.get("BENCH_VARNISH_PORT", "8091"))
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--comparisons", type=int, default=1000)
    parser.add_argument(
        "--frameworks",
        type=int,
        default=28,
        help="frameworks the comparisons draw from (the large catalogue: 10000 over 2000; "
        "give it its own --database-url to keep both data sets)",
    )
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument(
        "--targets",
        type=comma_list(str),
        default=TARGETS,
        help=f"which to measure, of {','.join(TARGETS)} (the static ceiling always)",
    )
    parser.add_argument(
        "--growth-requests",
        type=comma_list(int),
        default=[100_000, 1_000_000],
        help="request counts for the growth table's triage queue and report, each in a "
        "database of its own named after --database-url (e.g. compare_bench_requests_100000)",
    )
    parser.add_argument(
        "--catalogues",
        type=comma_list(str),
        default=None,
        help="database URLs whose comparisons the growth table's seed page, home and "
        "search rows are measured on, as they are (default: --database-url); e.g. "
        "compare_bench's 1,000 and compare_bench10k's 10,000",
    )
    parser.add_argument(
        "--generator", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python"
    )
    parser.add_argument("--output", default=str(ROOT / "bench-results"))
    args = parser.parse_args()
    args.catalogues = args.catalogues or [args.database_url]

    environment = production_environment(args)
    print(
        f"Load generator: {args.generator}; {args.connections} connections, "
        f"{args.duration}s per target."
    )
    ensure_database(args.database_url)
    manage(environment, "migrate", "--noinput", "-v0")
    manage(environment, "collectstatic", "--noinput", "-v0")
    manage(
        environment,
        "generate_bench_data",
        f"--comparisons={args.comparisons}",
        f"--frameworks={args.frameworks}",
    )
    if "triage" in args.targets:
        manage(environment, "generate_bench_requests", f"--requests={args.requests}")
    seed_bytes = write_ceiling_file(environment, args)

    base = f"http://127.0.0.1:{args.port}"
    server = start_server(environment, args.port)
    results = {}
    try:
        # Warm the caches and check each page answers before measuring.
        for path in [
            "/compare/pytorch-vs-tensorflow/",
            SEED_WEIGHTED,
            "/compare/bench-00001/",
            BENCH_WEIGHTED,
            FRAMEWORK_PAGE,
            "/",
            BENCH_HUB,
            SEARCH_COMMON,
            SEARCH_TYPO,
            f"/static/{CEILING_PATH}",
        ]:
            status, _, _ = fetch(base + path)
            assert status == 200, (path, status)
        _, _, ceiling_body = fetch(f"{base}/static/{CEILING_PATH}")
        assert ceiling_body == seed_bytes

        targets = [
            ("1. static file, seed page bytes (ceiling)", f"/static/{CEILING_PATH}"),
            ("2. trivial Django view (/livez)", "/livez"),
            ("3a. seed comparison page", "/compare/pytorch-vs-tensorflow/"),
            ("3a'. seed page, reader's weights", SEED_WEIGHTED),
            ("3b. 4-way comparison, 50 factors", "/compare/bench-00001/"),
            ("3b'. 4-way, 50 factors, reader's weights", BENCH_WEIGHTED),
            ("4. home page", "/"),
            ("4b. category hub, page 2", BENCH_HUB),
            ("7. framework page (PyTorch)", FRAMEWORK_PAGE),
            ("5a. search, common term", SEARCH_COMMON),
            ("5b. search, typo", SEARCH_TYPO),
        ]
        if "pages" not in args.targets:
            targets = targets[:1]
        for name, path in targets:
            print(f"measuring {name} ...", flush=True)
            results[name] = load(base + path, args)
        # Search's budget is for one client: its own cost, without queueing behind
        # the other connections on this 2-core machine.
        alone = argparse.Namespace(**{**vars(args), "connections": 1})
        for name, path in [
            ("5c. search, common term, one connection", SEARCH_COMMON),
            ("5d. search, typo, one connection", SEARCH_TYPO),
        ]:
            if "pages" not in args.targets:
                break
            print(f"measuring {name} ...", flush=True)
            results[name] = load(base + path, alone)
            results[name]["notes"] = "1 connection; p99 budget: under 50 ms"

        results.update(consultations.measure(base, args, environment, load))
        budget = static_budget(base)
        results.update(measure_through_varnish(args, environment))
    finally:
        stop_server(server)

    ceiling = results["1. static file, seed page bytes (ceiling)"]["rps"]
    growth = []
    if "growth" in args.targets:
        growth += measure_catalogues(args, environment, ceiling)
        growth += consultations.measure_growth(
            args,
            environment,
            load,
            ensure_database=ensure_database,
            manage=manage,
            start_server=start_server,
            stop_server=stop_server,
        )

    print_table(results, ceiling)
    if growth:
        print_growth_table(growth)
    print()
    for key, value in budget.items():
        print(f"{key}: {value}")

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "when": stamp,
        "generator": args.generator,
        "connections": args.connections,
        "duration_s": args.duration,
        "workers": args.workers,
        "threads": args.threads,
        "results": {
            name: {**r, "ratio_to_ceiling": r["rps"] / ceiling} for name, r in results.items()
        },
        "budget": budget,
        "growth": growth,
    }
    path = output / f"bench-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nJSON written to {path}")


if __name__ == "__main__":
    main()

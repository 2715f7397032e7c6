"""A small HTTP load generator, used when wrk is not installed.

Each of ``connections`` processes keeps one HTTP/1.1 connection open and sends
requests back to back for ``duration`` seconds; the parent merges latencies.
It is slower than wrk, so figures from it are only comparable with each other.
"""

import http.client
import multiprocessing
import statistics
import time
from urllib.parse import urlsplit


def wrk_threads(connections):
    """How many threads wrk runs: one a core on this 2-core machine, no more than connections."""
    return min(2, connections)


def _worker(url, duration, headers, method, body_factory, queue, index, stride):
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    latencies, statuses, sequence = [], {}, 0
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        # A number no other worker uses: index, index + stride, index + 2 * stride...
        body = body_factory(index + sequence * stride) if body_factory else None
        sequence += 1
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            statuses["error"] = statuses.get("error", 0) + 1
            continue
        latencies.append(time.perf_counter() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    queue.put((latencies, statuses))


def run(url, *, connections, duration, headers=None, method="GET", body_factory=None):
    """Load ``url``; returns requests/s, p50 and p99 in milliseconds, and status counts."""
    queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_worker,
            args=(url, duration, headers or {}, method, body_factory, queue, index, connections),
        )
        for index in range(connections)
    ]
    for worker in workers:
        worker.start()
    latencies, statuses = [], {}
    for _ in workers:
        worker_latencies, worker_statuses = queue.get()
        latencies.extend(worker_latencies)
        for status, count in worker_statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    for worker in workers:
        worker.join()
    latencies.sort()
    if not latencies:
        return {"rps": 0.0, "p50_ms": None, "p99_ms": None, "statuses": statuses}
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "rps": len(latencies) / duration,
        "p50_ms": quantiles[49] * 1000,
        "p99_ms": quantiles[98] * 1000,
        "statuses": statuses,
    }

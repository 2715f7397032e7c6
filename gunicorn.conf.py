"""gunicorn settings for production: `gunicorn compare_site.wsgi` reads this file.

Threads let one worker keep connections alive while others render; the worker
count follows the machine (override with WEB_CONCURRENCY and GUNICORN_THREADS).
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
# With gthread workers this restarts a worker whose main loop is stuck, not a
# slow request: requests waiting on the database give up by themselves after
# DB_CONNECT_TIMEOUT or DB_STATEMENT_TIMEOUT (settings.py), and on Redis after
# REDIS_TIMEOUT_MS, so a hung backing service cannot hold the threads.
timeout = 30
graceful_timeout = 20
# A worker is replaced after this many requests, in case something leaks. At
# 5,000, `make bench` saw each worker replaced every five seconds under load:
# loading the site in a new one costs 0.65 s of CPU, and its first requests run cold
# (connections, templates, caches), which was the tail of the search p99 measured
# right after (a 116 ms p99 against 28 ms with no restart).
max_requests = 50_000
max_requests_jitter = 5_000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"


def post_worker_init(worker):
    """Leave the objects made while loading the site out of garbage collection.

    They live as long as the worker (about 100,000: modules, models, settings),
    yet every full collection went through them all again: a pause of up to
    100 ms every few hundred requests, measured in-process on the search page,
    which is what a p99 sees. Frozen, a full collection took 5 to 27 ms.
    """
    gc.collect()
    gc.freeze()

"""gunicorn settings for production: `gunicorn compare_site.wsgi` reads this file.

Threads let one worker keep connections alive while others render; the worker
count follows the machine (override with WEB_CONCURRENCY and GUNICORN_THREADS).
"""

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
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"

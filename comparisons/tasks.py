"""Background work of the comparisons app, run by ``manage.py db_worker`` and woken by
``manage.py crontask`` (which loads every app's tasks module; see consultations/tasks.py).

- ``purge_http_caches``: one pass over the HTTP cache purges due (purges.py).
  Enqueued for a failed purge's retry time and for a scheduled publication's
  publish time, and every minute as a sweep (a worker that died, an enqueue lost).
"""

from crontask import cron
from django.tasks import task

from . import purges


@cron("* * * * *")
@task
def purge_http_caches():
    """Send the due cache purges; returns how many were confirmed and how many failed."""
    purged, failed = purges.purge_due()
    return {"purged": purged, "failed": failed}

"""
Purging the shared HTTP cache when content changes, through an outbox.

A save or delete of comparison content (signals.py) queues the xkey tags of
the pages showing it (caching.py names them): one CachePurge row per cache in
HTTP_CACHE_PURGE_URLS, written in the transaction of the change, so no change
commits without its purge. The rows of one transaction (an admin save and its
inlines) are one batch: later saves add their tags to the same rows.

Right after the commit the batch is sent, in the process that saved, so an
editor's change is visible on the very next request. A purge that fails stays
pending and is retried by the task worker (tasks.purge_http_caches, enqueued
for the retry time and run every minute as a sweep), with the email outbox's
leases (compare_site/leases.py), until the cache answers: never dropped.

A scheduled publication changes the public pages with no save at its publish
time, so saving a scheduled comparison also queues a purge due at that time,
and enqueues the task to run then.
"""

import logging
import secrets
import urllib.error
import urllib.request

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .caching import LISTINGS_KEY, category_key, comparison_key, framework_key
from .models import Assessment, CachePurge, Comparison, Framework, Participant

logger = logging.getLogger(__name__)

# Caches are on the local network: never through an HTTP proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PurgeBatch:
    """The purge rows of one transaction; on commit (its __call__) they are sent."""

    def __init__(self):
        self.keys = set()
        self.comparisons = set()  # comparison pks whose own tags are in self.keys
        self.rows = []

    def add(self, keys):
        new = set(keys) - self.keys
        if not new:
            return
        self.keys |= new
        joined = " ".join(sorted(self.keys))
        if self.rows:
            CachePurge.objects.filter(pk__in=[row.pk for row in self.rows]).update(keys=joined)
        else:
            self.rows = [
                CachePurge.objects.create(cache_url=url, keys=joined)
                for url in settings.HTTP_CACHE_PURGE_URLS
            ]

    def __call__(self):
        purge_due(only=[row.pk for row in self.rows])


def pending_batch():
    """This transaction's batch, if a save in it queued one already."""
    connection = connections[DEFAULT_DB_ALIAS]
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, PurgeBatch):
            return callback
    return None


def queue(keys, *, comparison_id=None):
    """Add ``keys`` to this transaction's batch, or start one that is sent on commit
    (at once, outside a transaction)."""
    batch = pending_batch()
    if batch is None:
        batch = PurgeBatch()
        batch.add(keys)
        # robust: the change is committed already; a failed try is retried by the worker.
        transaction.on_commit(batch, robust=True)
    else:
        batch.add(keys)
    if comparison_id is not None:
        batch.comparisons.add(comparison_id)


def content_changed(instance):
    """Queue the purge of every page showing ``instance`` as it is now (saved or deleted)."""
    if not settings.HTTP_CACHE_PURGE_URLS:
        return
    if isinstance(instance, Framework):
        queue([framework_key(instance.pk), LISTINGS_KEY])
        return
    keys = {LISTINGS_KEY}
    if isinstance(instance, Comparison):
        keys |= {comparison_key(instance.pk), category_key(instance.category_en)}
        comparison_id = instance.pk
        if instance.is_scheduled:
            queue_scheduled(instance)
    elif isinstance(instance, Assessment):
        comparison_id = instance.factor.comparison_id
    else:  # Participant, Factor, Statistic
        comparison_id = instance.comparison_id
    if isinstance(instance, Participant):
        keys.add(framework_key(instance.framework_id))
    batch = pending_batch()
    # The stored tags once per comparison and transaction: an admin save of a page
    # with 50 factors reads them once, not for every row.
    if batch is None or comparison_id not in batch.comparisons:
        keys |= comparison_tags(comparison_id)
    queue(keys, comparison_id=comparison_id)


def content_about_to_change(instance):
    """Before a comparison or participant is saved: the tags it had (an old category,
    a framework swapped out), which the pages showing it before still carry."""
    if not settings.HTTP_CACHE_PURGE_URLS or instance.pk is None:
        return
    if isinstance(instance, Comparison):
        queue(comparison_tags(instance.pk))
    elif isinstance(instance, Participant):
        before = Participant.objects.filter(pk=instance.pk).values_list("framework_id", flat=True)
        queue([framework_key(pk) for pk in before])


def comparison_tags(comparison_id):
    """A comparison's tags as stored: itself, its category, its frameworks, the listings."""
    keys = {comparison_key(comparison_id), LISTINGS_KEY}
    categories = Comparison.objects.filter(pk=comparison_id).values_list("category_en", flat=True)
    keys.update(category_key(name) for name in categories)
    frameworks = Participant.objects.filter(comparison_id=comparison_id)
    keys.update(framework_key(pk) for pk in frameworks.values_list("framework_id", flat=True))
    return keys


def queue_scheduled(comparison):
    """Purge, at its publish time, what a scheduled comparison will appear on."""
    keys = " ".join(
        sorted(
            {comparison_key(comparison.pk), category_key(comparison.category_en), LISTINGS_KEY}
            | comparison_tags(comparison.pk)
        )
    )
    for url in settings.HTTP_CACHE_PURGE_URLS:
        CachePurge.objects.create(cache_url=url, keys=keys, next_attempt_at=comparison.published_at)
    published_at = comparison.published_at
    transaction.on_commit(lambda: wake_worker_at(published_at), robust=True)


def wake_worker_at(when):
    """Enqueue the purge task to run at ``when``: the worker then needs no sweep to be on time."""
    from .tasks import purge_http_caches

    purge_http_caches.using(run_after=when).enqueue()


def send(purge):
    """PURGE the tags at one cache; None when it confirmed, else what went wrong."""
    # http(s) only: settings refuse any other scheme in HTTP_CACHE_PURGE_URLS.
    request = urllib.request.Request(  # noqa: S310
        purge.cache_url, method="PURGE", headers={"xkey": purge.keys}
    )
    try:
        with _opener.open(request, timeout=settings.HTTP_CACHE_PURGE_TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.reason}"
    except OSError as error:  # refused, timed out, reset, unknown host
        return f"{type(error).__name__}: {error}"
    return None


def purge_due(*, now=None, only=None, should_stop=lambda: False):
    """One pass over the due purges (of the pks in ``only``, if given); returns
    (purged, failed). Each is claimed with a lease, sent outside any transaction
    and its result saved under the lease, as the email outbox does. After a
    failure the task is enqueued for the earliest retry."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    purges = CachePurge.objects.all() if only is None else CachePurge.objects.filter(pk__in=only)
    purged = failed = 0
    retry_at = None
    while not should_stop():
        purge = purges.claim_next(token=token, now=now)
        if purge is None:
            break
        error = send(purge)
        if not purge.record(error, now=now):
            logger.warning("Cache purge %s: lease lost before its result was saved.", purge.pk)
        elif error is None:
            purged += 1
        else:
            failed += 1
            retry_at = min(retry_at or purge.next_attempt_at, purge.next_attempt_at)
            logger.warning(
                "Cache purge %s at %s failed (attempt %s, %s); retrying at %s.",
                purge.pk,
                purge.cache_url,
                purge.attempts,
                error,
                purge.next_attempt_at.isoformat(),
            )
    if retry_at is not None:
        try:
            wake_worker_at(retry_at)
        except Exception:  # the every-minute sweep retries it anyway
            logger.warning("Could not enqueue the purge retry; the sweep will.", exc_info=True)
    return purged, failed

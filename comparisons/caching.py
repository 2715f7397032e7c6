"""
Whole-page caching for the public comparison pages, shared by every app server.

A page is read far more often than it is written, so anonymous GETs are served
from the cache, keyed by a *content version*. Any save or delete of comparison
content (see signals.py) forgets the version, so the next request on any server
that shares the cache renders afresh: editors never wait for a timeout. The
version also expires by itself when a scheduled comparison's publish time comes,
because publishing by time involves no save.

Each cached page carries an ETag derived from the version, so a repeat visitor
gets a 304 without the page being rendered or even read from the cache.
"""

import functools
import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

VERSION_KEY = "comparisons:content-version"
NEXT_DUE_KEY = "comparisons:next-publish-time"
PAGE_TIMEOUT = 60 * 60


def forget_content_version():
    """Make every cached public page stale, on every server sharing the cache."""
    cache.delete(VERSION_KEY)


def current_content_version():
    values = cache.get_many([VERSION_KEY, NEXT_DUE_KEY])
    version = values.get(VERSION_KEY)
    next_due = values.get(NEXT_DUE_KEY)
    if version is None or (next_due is not None and timezone.now().timestamp() >= next_due):
        version = _new_content_version()
    return version


def _new_content_version():
    from .models import Comparison

    next_due = Comparison.objects.filter(
        status=Comparison.Status.PUBLISHED, published_at__gt=timezone.now()
    ).aggregate(next_due=Min("published_at"))["next_due"]
    version = uuid.uuid4().hex
    cache.set_many(
        {VERSION_KEY: version, NEXT_DUE_KEY: next_due.timestamp() if next_due else None},
        timeout=None,
    )
    return version


def _is_anonymous(request):
    # Without a session cookie nobody is logged in, and no session query is needed.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return True
    return not request.user.is_authenticated


def cache_public_page(*, query_params=()):
    """Serve anonymous GET/HEAD requests of a view from the shared page cache.

    Only ``query_params`` take part in the cache key (the view must ignore any
    other parameter), so arbitrary query strings cannot flood the cache. Only
    200 responses that do not ask for privacy are stored.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") or not _is_anonymous(request):
                return view(request, *args, **kwargs)
            if "messages" in request.COOKIES:  # a flash message is waiting: render it
                return view(request, *args, **kwargs)

            version = current_content_version()
            params = "&".join(f"{name}={request.GET.get(name, '')}" for name in query_params)
            identity = f"{version}|{request.path}|{params}"
            digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
            etag = f'"{digest}"'

            if etag in request.headers.get("If-None-Match", ""):
                response = HttpResponseNotModified()
                response["ETag"] = etag
                patch_cache_control(response, no_cache=True)
                return response

            key = f"comparisons:page:{digest}"
            cached = cache.get(key)
            if cached is not None:
                content_type, content = cached
                response = HttpResponse(content, content_type=content_type)
            else:
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.has_header("Cache-Control"):
                    return response
                cache.set(key, (response["Content-Type"], response.content), PAGE_TIMEOUT)
            response["ETag"] = etag
            # Browsers revalidate every time (cheap, thanks to the ETag), so an
            # editor's change shows on the very next request.
            patch_cache_control(response, no_cache=True)
            # Logged-in editors see previews at the same address.
            patch_vary_headers(response, ["Cookie"])
            return response

        return wrapper

    return decorator

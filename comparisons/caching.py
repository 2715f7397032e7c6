"""
Whole-page caching for the public comparison pages, shared by every app server.

A page is read far more often than it is written, so anonymous GETs are served
from the cache, keyed by a *content version*. Any save or delete of comparison
content (see signals.py) forgets the version, so the next request on any server
that shares the cache renders afresh: editors never wait for a timeout. The
version also expires by itself when a scheduled comparison's publish time comes,
because publishing by time involves no save, and when the year turns, because
that makes statistics stale (models.next_stale_statistic_change) with no save
either: a page is never served without its "may be out of date" marks.

Each cached page carries an ETag derived from the version, so a repeat visitor
gets a 304 without the page being rendered or even read from the cache.

The shared HTTP cache in front (deploy/varnish/site.vcl) follows the same rule:
may_share() is the one place that decides whether a response may be kept by a
cache shared between visitors, and CachedPageMiddleware applies it to every
response. A view opts in by naming, in an ``xkey`` header (tag()), the content
it shows; purges.py purges those tags through the cache when the content changes.
"""

import functools
import hashlib
import re
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language

# Holds (version, timestamp of the next change no save announces): one key, so
# a cache hit costs a single round trip to the shared cache.
VERSION_KEY = "comparisons:content-version"
PAGE_TIMEOUT = 60 * 60


def forget_content_version():
    """Make every cached public page stale, on every server sharing the cache."""
    cache.delete(VERSION_KEY)


def current_content_version(request=None):
    return _content_state(request)[0]


def seconds_until_content_changes(request=None):
    """How long the current content stays as it is with nobody saving anything:
    until the next scheduled publication or the New Year (see the module's doc)."""
    return max(0, int(_content_state(request)[1] - timezone.now().timestamp()))


def _content_state(request=None):
    """(version, timestamp of the next change no save announces), read from the
    shared cache once per ``request``: the middleware, the view's decorator and
    the Cache-Control of the answer all ask, and each ask was a round trip."""
    if request is None:
        return _shared_content_state()
    if not hasattr(request, "content_state"):
        request.content_state = _shared_content_state()
    return request.content_state


def _shared_content_state():
    stored = cache.get(VERSION_KEY)
    if stored is None:
        return _new_content_version()
    version, next_due = stored
    if next_due is not None and timezone.now().timestamp() >= next_due:
        return _new_content_version()
    return version, next_due


def _new_content_version():
    from .models import Comparison, next_stale_statistic_change

    now = timezone.now()
    next_publication = Comparison.objects.filter(
        status=Comparison.Status.PUBLISHED, published_at__gt=now
    ).aggregate(next_due=Min("published_at"))["next_due"]
    # The next scheduled publication, or the New Year if it comes first.
    next_due = min(filter(None, [next_publication, next_stale_statistic_change(now)]))
    version = uuid.uuid4().hex
    # Finite, like the pages: a forgetting lost in a cache outage (see
    # compare_site/cache.py) can keep pages stale for at most PAGE_TIMEOUT.
    cache.set(VERSION_KEY, (version, next_due.timestamp()), PAGE_TIMEOUT)
    return version, next_due.timestamp()


def _is_anonymous(request):
    # Without a session cookie nobody is logged in, and no session query is needed.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return True
    return not request.user.is_authenticated


def _may_use_cache(request):
    return (
        request.method in ("GET", "HEAD")
        # A flash message is waiting: render it.
        and "messages" not in request.COOKIES
        and _is_anonymous(request)
    )


def _page_digest(request, query_params):
    # Only the view's own parameters, and an empty one counts as absent (as the
    # views read it). The view answers 404 to any value its links never write,
    # and only 200s are stored, so what the cache holds is bounded by the content.
    # Every value of a repeated parameter: ?w=a&w=b must not share ?w=b's entry.
    params = "&".join(
        f"{name}={value}" for name in query_params for value in request.GET.getlist(name) if value
    )
    # The path holds the language already (/de/...); the active language is said
    # too, so that no page can ever be served in another language than it shows.
    identity = f"{current_content_version(request)}|{get_language()}|{request.path}|{params}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


# Cached bodies are immutable (their key holds the content version), so each
# process may keep recent ones in memory and only ask the shared cache for the
# version. Bounded: oldest entries are dropped first.
_local_pages = {}
LOCAL_PAGES_MAX = 256


def _cached_page(digest):
    page = _local_pages.get(digest)
    if page is None:
        page = cache.get(f"comparisons:page:{digest}")
        if page is not None:
            _remember_locally(digest, page)
    return page


def _remember_locally(digest, page):
    if len(_local_pages) >= LOCAL_PAGES_MAX:
        _local_pages.pop(next(iter(_local_pages)))
    _local_pages[digest] = page


# Headers a view sets about its own content, kept with the cached body (the
# security headers come from middleware on every response, cached or not).
KEPT_HEADERS = ("Content-Disposition", "Link", "X-Robots-Tag", "xkey")


def _store_page(digest, response):
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    page = (response["Content-Type"], response.content, headers)
    cache.set(f"comparisons:page:{digest}", page, PAGE_TIMEOUT)
    _remember_locally(digest, page)


def _finish(response, digest):
    if not response.streaming:
        response["Content-Length"] = str(len(response.content))
    response["ETag"] = f'"{digest}"'
    # Browsers revalidate every time (cheap, thanks to the ETag), so an
    # editor's change shows on the very next request.
    patch_cache_control(response, no_cache=True)
    # Logged-in editors see previews at the same address.
    patch_vary_headers(response, ["Cookie"])
    return response


def _from_cache(request, digest):
    """A 304 or the cached page, or None when the page is not cached."""
    if f'"{digest}"' in request.headers.get("If-None-Match", ""):
        return _finish(HttpResponseNotModified(), digest)
    page = _cached_page(digest)
    if page is None:
        return None
    # Entries stored before the headers were kept have two parts.
    content_type, content, *rest = page
    headers = rest[0] if rest else {}
    return _finish(HttpResponse(content, content_type=content_type, headers=headers), digest)


def cache_public_page(*, query_params=()):
    """Serve anonymous GET/HEAD requests of a view from the shared page cache.

    Only ``query_params`` take part in the cache key (the view must ignore any
    other parameter, and answer 404 to a value it does not know, such as
    ``?page=x``), so arbitrary query strings cannot flood the cache. Only 200
    responses that do not set their own Cache-Control are stored.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            # What the page is keyed by, for links back to it (templatetags/languages.py).
            request.page_query_params = query_params
            if not _may_use_cache(request):
                return view(request, *args, **kwargs)
            digest = _page_digest(request, query_params)
            cached = _from_cache(request, digest)
            if cached is not None:
                return cached
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.has_header("Cache-Control"):
                return response
            _store_page(digest, response)
            return _finish(response, digest)

        return wrapper

    return decorator


class CachedPageMiddleware:
    """Answer cache hits for plain page URLs before the rest of the middleware runs.

    The same idea as Django's FetchFromCacheMiddleware: it sits near the top of
    MIDDLEWARE and only ever *reads*; the views' decorator fills the cache. It
    handles requests without a query string (the usual visit), and a comparison
    address with nothing but one reader's weights (``?w=``: a shared link),
    which every view under /compare/ keys by ``w`` alone. Anything else goes on
    to the view, whose decorator knows which parameters matter. A lookup keyed
    differently from the view that stored a page can only miss, never answer
    with another page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Last word on every response, cached here or not: may a shared cache keep it?
        return share_if_allowed(request, self._respond(request))

    def _respond(self, request):
        if (
            request.method in ("GET", "HEAD")
            # Sessions are not loaded yet: anyone with a session cookie goes on.
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "messages" not in request.COOKIES
        ):
            query_params = _cached_query_params(request)
            if query_params is not None:
                cached = _from_cache(request, _page_digest(request, query_params))
                if cached is not None:
                    return cached
        return self.get_response(request)


def _cached_query_params(request):
    """The parameters a cached page at this address is keyed by, or None: not ours."""
    path = request.path_info
    language = translation.get_language_from_path(path)
    if language:  # /de/compare/x/ is keyed as /compare/x/ is, in its language.
        path = path.removeprefix(f"/{language}")
    if not (path in ("", "/") or path.startswith(("/compare/", "/categories/"))):
        return None
    if not request.META.get("QUERY_STRING"):
        return ()
    if path.startswith("/compare/") and list(request.GET) == ["w"]:
        return ("w",) if len(request.GET.getlist("w")) == 1 else None
    return None


# What a response shows, as xkey tags: the HTTP cache purges by these names
# (purges.py). A page listing comparisons (home, hubs, search, the sitemap and
# the feed) carries LISTINGS_KEY, which every content change purges.
TAG_HEADER = "xkey"
LISTINGS_KEY = "listings"


def comparison_key(pk):
    return f"comparison-{pk}"


def framework_key(pk):
    return f"framework-{pk}"


def category_key(name):
    from .models import category_slug

    return f"category-{category_slug(name)}"


def comparison_keys(comparison):
    """The tags of a comparison as a page shows it: itself, its frameworks, its category.
    Reads the participants prefetched with the comparison."""
    keys = {comparison_key(comparison.pk), category_key(comparison.category_en)}
    keys.update(framework_key(p.framework_id) for p in comparison.participants.all())
    return keys


def tag(response, keys):
    """Name in the response what it shows (space-separated, as the xkey vmod reads it)."""
    response[TAG_HEADER] = " ".join(sorted(set(keys)))
    return response


def shows(*keys):
    """Decorate a view whose every response shows ``keys`` (e.g. LISTINGS_KEY)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            return tag(view(request, *args, **kwargs), keys)

        return wrapper

    return decorator


_PERSONAL_DIRECTIVE = re.compile(r"\b(private|no-store)\b")


def may_share(request, response):
    """Whether a cache shared between visitors may keep ``response``: the one home
    of that rule, for the HTTP cache in front.

    Only a tagged response (a public view said what content it shows), a 200 to
    an anonymous GET or HEAD with no flash message waiting (_may_use_cache),
    that sets no cookie, used no CSRF token and was not marked private or
    no-store by its view (previews, a reader's junk weights). Everything else
    (the booking form, status pages, the admin, errors, POSTs) is never shared.
    """
    return (
        response.has_header(TAG_HEADER)
        and response.status_code == 200
        and _may_use_cache(request)
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not _PERSONAL_DIRECTIVE.search(response.get("Cache-Control", ""))
    )


def share_if_allowed(request, response):
    """Say how long a shared cache may keep a response may_share() allows.

    ``no-cache`` is for every cache that is not purged (browsers, and any proxy
    that does not know our tags): they revalidate each time (cheap, with the
    ETag). ``s-maxage`` and the ``stale-*`` directives are for the HTTP cache in
    front, which is purged on every change (deploy/varnish/site.vcl reads them).
    """
    if may_share(request, response):
        # Never fresh, nor served stale while refreshing, past the next change no
        # save purges (a scheduled publication, the New Year's "may be out of
        # date" marks); stale-if-error stays: an error page is worse than a mark late.
        unchanged_for = seconds_until_content_changes(request)
        refresh_window = min(settings.HTTP_CACHE_STALE_WHILE_REVALIDATE, unchanged_for)
        patch_cache_control(
            response,
            public=True,
            no_cache=True,
            s_maxage=min(settings.HTTP_CACHE_MAX_AGE, unchanged_for - refresh_window),
            stale_while_revalidate=refresh_window,
            stale_if_error=settings.HTTP_CACHE_STALE_IF_ERROR,
        )
    return response

"""Site-wide views that belong to no app: liveness and health checks, the error
pages and the sign-in lockout page.

The error pages render without a request context on purpose: context
processors read the session and the user, which need the database, and these
pages must work when the database does not.
"""

import sys

from django.conf import settings
from django.core.cache import cache
from django.db import Error as DatabaseError
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

# How long a visitor (or a crawler) should wait before retrying a 503.
RETRY_AFTER_SECONDS = 120


@never_cache
def livez(request):
    """Liveness for load balancers: the process answers; touches no database or cache."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def healthz(request):
    """The database's and the cache's state as JSON; 503 when the database is down.

    Only the database decides the status code: the site serves pages without
    the cache (slower: "degraded"), so a load balancer should not pull it out
    of service for that. The cache fails open within its short timeout
    (compare_site/cache.py), so a dead or hanging Redis cannot stall this check.
    """
    state = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        state["database"] = "unavailable"
    try:
        cache.set("healthz", "ok", timeout=10)
        if cache.get("healthz") != "ok":
            state["cache"] = "degraded"
    except Exception:  # A backend that does not fail open: the same answer.
        state["cache"] = "degraded"
    status = 200 if state["database"] == "ok" else 503
    return JsonResponse(state, status=status)


def service_unavailable():
    """The 503 page, with an address to write to meanwhile."""
    response = HttpResponse(
        render_to_string("503.html", {"contact_email": settings.CONTACT_EMAIL}), status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """handler500: the 503 page when the database is down, the 500 page otherwise."""
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        return service_unavailable()
    return HttpResponse(
        render_to_string("500.html", {"contact_email": settings.CONTACT_EMAIL}), status=500
    )


def locked_out(request, original_response=None, credentials=None):
    """What django-axes shows after too many failed sign-ins (AXES_LOCKOUT_CALLABLE)."""
    return render(
        request,
        "registration/locked_out.html",
        {
            "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "contact_email": settings.CONTACT_EMAIL,
        },
        status=429,
    )


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check (CSRF_FAILURE_VIEW): our page, saying what to
    do, instead of Django's bare one. ``reason`` is for the logs, not the reader."""
    return render(request, "403_csrf.html", status=403)

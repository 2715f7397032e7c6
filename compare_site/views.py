"""Site-wide views that belong to no app."""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def livez(request):
    """Liveness for load balancers: the process answers; touches no database or cache."""
    return HttpResponse("ok", content_type="text/plain")

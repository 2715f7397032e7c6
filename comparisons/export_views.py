"""Take it away: a comparison page's decision record as Markdown and as JSON.

Both follow the page's own rules (views.comparison_detail): a visitor gets
a published, due page or 404; an editor may export a draft or scheduled page
as a preview, never cached; a former or reordered address redirects to the
export of the page it stands for. The record is the reader's current view:
the weights come from the same ``w`` query as the page's (weighing.py).

Published exports use the page cache. Only the one spelling of the weights
(weighing.read_weights) is stored, so junk queries cannot fill the cache; a
weighted export says noindex, and every export names the page as canonical.
"""

from pathlib import Path

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_safe

from .caching import cache_public_page, comparison_keys, tag
from .decision_record import SCHEMA_FILE, build_record, render_markdown
from .views import redirect_target, visible_comparison
from .weighing import QUERY_PARAMETER

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / SCHEMA_FILE


@require_safe
@cache_public_page(query_params=[QUERY_PARAMETER])
def decision_markdown(request, slug):
    """The decision record as Markdown (text/markdown), to download."""
    return export(request, slug, "comparisons:decision_markdown", markdown_response)


@require_safe
@cache_public_page(query_params=[QUERY_PARAMETER])
def decision_json(request, slug):
    """The decision record as JSON, under the schema at comparisons:decision_schema."""
    return export(request, slug, "comparisons:decision_json", json_response)


@require_safe
def decision_schema(request):
    """The JSON Schema of the decision record, at a stable address tools can fetch."""
    response = HttpResponse(SCHEMA_PATH.read_bytes(), content_type="application/schema+json")
    patch_cache_control(response, public=True, max_age=60 * 60 * 24)
    return response


def markdown_response(record, slug):
    response = HttpResponse(render_markdown(record), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-decision.md"'
    return response


def json_response(record, slug):
    response = JsonResponse(record, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'inline; filename="{slug}-decision.json"'
    return response


def export(request, slug, url_name, respond):
    """The page's permission rules, then the record in the form ``respond`` writes."""
    comparison, preview = visible_comparison(request, slug)
    if comparison is None:
        target = redirect_target(slug)
        if target is None:
            raise Http404("No published comparison has this address.")
        query = request.META.get("QUERY_STRING", "")
        url = reverse(url_name, kwargs={"slug": target.slug}) + (f"?{query}" if query else "")
        return redirect(url, permanent=True)

    given = [value for value in request.GET.getlist(QUERY_PARAMETER) if value]
    record = build_record(comparison, given, preview=preview)
    response = tag(respond(record, comparison.slug), comparison_keys(comparison))
    response["Link"] = f'<{record["page"]["url"]}>; rel="canonical"'
    weights = record["weights"]
    if given or preview:
        response["X-Robots-Tag"] = "noindex"
    if preview:
        # An unpublished page must stay out of every shared and browser cache.
        add_never_cache_headers(response)
    elif given != ([weights["query"]] if weights["query"] else []):
        # Not the one spelling of these weights (or with ignored parts): answer,
        # but keep it out of the page cache, which then holds one entry per weighting.
        patch_cache_control(response, private=True, no_cache=True)
    return response

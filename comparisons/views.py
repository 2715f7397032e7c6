"""Public pages: the list of comparisons, each comparison's page and the methodology.

A comparison's address shows the public page when it is published and due.
Otherwise, in this order: an editor sees the unpublished comparison at that
address as a preview (never cached, never indexed); a former or reordered
address redirects permanently to the public page (:func:`redirect_target`
finds it); anything else is 404. All of that is decided in one place,
:func:`comparison_detail`, so the public path keeps its fixed query count.
Anonymous visitors' pages come from the shared page cache (caching.py); a
preview is only ever rendered for a signed-in editor and says no-store.
"""

import re
from itertools import permutations
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import apnumber
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import ngettext

from . import search as catalogue_search
from .browse_forms import PickerForm
from .caching import (
    LISTINGS_KEY,
    cache_public_page,
    comparison_key,
    comparison_keys,
    framework_key,
    shows,
    tag,
)
from .models import (
    REVIEW_INTERVAL,
    STATISTIC_MAX_AGE_YEARS,
    Comparison,
    Framework,
    OldSlug,
    Participant,
    Statistic,
    category_slug,
)
from .translation import in_any_language
from .weighing import (
    QUERY_PARAMETER,
    WEIGHT_LABELS,
    WEIGHT_NAMES,
    factor_keys,
    names,
    read_weights,
    weigh,
)

PREVIEW_PERMISSION = "comparisons.change_comparison"

HOME_PAGE_SIZE = 30
FRAMEWORK_PAGE_SIZE = 30
# Figures that name the framework, from the comparisons it is in: at most this many.
FRAMEWORK_STATISTICS = 20
# Slugs of more parts than this are not tried in every order (5! = 120 candidates).
MAX_PERMUTED_PARTS = 5
SLUG_SEPARATOR = "-vs-"
# A page number as the page's own links write it: "2", never "02", "+2" or "2.0".
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def page_number(request):
    """The ?page= number, 1 when absent; Http404 for anything the links never write.

    Each spelling would otherwise be its own entry in the page cache, and an
    unknown page answered 200 with another page's content.
    """
    value = request.GET.get("page", "")
    if not value:
        return 1
    if not PAGE_NUMBER.fullmatch(value):
        raise Http404("No page has that number.")
    return int(value)


def paginate(request, queryset):
    """The ?page= page of ``queryset``, HOME_PAGE_SIZE at a time; Http404 past the end."""
    try:
        return Paginator(queryset, HOME_PAGE_SIZE).page(page_number(request))
    except InvalidPage:
        raise Http404("No page has that number.") from None


@cache_public_page(query_params=["category", "page"])
@shows(LISTINGS_KEY)
def home(request):
    """Published comparisons, newest first, grouped by category, and the compare picker.

    The old ``?category=`` filter redirects permanently to the category's hub.
    """
    published = Comparison.objects.published()
    categories = published.categories()
    selected = request.GET.get("category", "")
    if selected in categories:
        target = reverse("comparisons:category", kwargs={"slug": category_slug(selected)})
        if request.GET.get("page"):
            target += "?" + urlencode({"page": request.GET["page"]})
        return redirect(target, permanent=True)
    page = paginate(request, published.with_listing_data())
    groups = {}
    for comparison in page.object_list:
        # Grouped by the English name, as hubs are: the same groups in every language.
        groups.setdefault(comparison.category_en, []).append(comparison)
    hubs = {}
    for name in categories:  # sorted: a hub is named by its first spelling
        hubs.setdefault(category_slug(name), name)
    return render(
        request,
        "comparisons/home.html",
        status=404 if selected else 200,
        context={
            "groups": sorted(groups.items()),
            "page": page,
            "hubs": [
                (name, reverse("comparisons:category", kwargs={"slug": slug}))
                for slug, name in hubs.items()
            ],
            "unknown_category": bool(selected),
            "picker": PickerForm(),
        },
    )


@cache_public_page(query_params=[QUERY_PARAMETER])
def comparison_detail(request, slug):
    """A comparison page: verdict, factors, score, statistics and the call to action,
    weighted by the reader's ``?w=`` weights when given."""
    comparison, preview = visible_comparison(request, slug)
    if comparison is not None and not preview:
        return render_comparison(request, comparison)
    if comparison is not None:
        response = render_comparison(request, comparison, preview=True)
        # An unpublished page must stay out of every shared and browser cache.
        add_never_cache_headers(response)
        return response
    target = redirect_target(slug)
    if target is not None:
        return redirect(target, permanent=True)
    raise Http404("No published comparison has this address.")


@cache_public_page(query_params=[QUERY_PARAMETER])
def comparison_result(request, slug):
    """The weighted result alone, for the page's script to show without a reload."""
    comparison, preview = visible_comparison(request, slug)
    if comparison is None:
        raise Http404("No published comparison has this address.")
    weights = reader_weights(request, comparison)
    if isinstance(weights, HttpResponseRedirect):
        return weights
    response = render(
        request, "comparisons/includes/weighted_result.html", weights_context(comparison, weights)
    )
    tag(response, comparison_keys(comparison))
    response["X-Robots-Tag"] = "noindex"
    if preview or weights.notices:
        add_never_cache_headers(response)
    return response


def visible_comparison(request, slug):
    """(comparison, preview): the published comparison at ``slug``, else the unpublished
    one for an editor allowed to preview it (preview True), else (None, False).

    The one home of who sees which comparison at an address: the page, its weighted
    result and its exports (export_views) all ask here.
    """
    comparison = Comparison.objects.published().with_page_data().filter(slug=slug).first()
    if comparison is not None:
        return comparison, False
    if request.user.has_perm(PREVIEW_PERMISSION):
        comparison = Comparison.objects.with_page_data().filter(slug=slug).first()
        if comparison is not None:
            return comparison, True
    return None, False


def reader_weights(request, comparison):
    """The reader's weights (ReadWeights), or a redirect to their one spelling.

    Any other spelling of the same weights (a form's one value per factor, or
    another order) redirects, so a view has one address and one cache entry.
    Weights that name nothing on the page are ignored with a notice, not redirected
    away, so that the reader sees what was ignored.
    """
    values = request.GET.getlist(QUERY_PARAMETER)
    weights = read_weights(values, comparison.factors.all())
    if values and not weights.notices and values != [weights.query]:
        target = request.path
        if weights.query:
            target += "?" + urlencode({QUERY_PARAMETER: weights.query}, safe=":,")
        return HttpResponseRedirect(target)
    return weights


def weights_context(comparison, weights):
    """What the weights form and the weighted result show."""
    factors = list(comparison.factors.all())
    keys = factor_keys(factors)
    return {
        "comparison": comparison,
        "result": weigh(comparison.participants.all(), factors, weights.weights),
        "weights_query": weights.query,
        "weight_notices": weights.notices,
        "weight_rows": [
            (factor, keys[factor.pk], weights.weights[factor.pk]) for factor in factors
        ],
        "weight_choices": [(v, WEIGHT_NAMES[v], WEIGHT_LABELS[v]) for v in sorted(WEIGHT_NAMES)],
    }


def slug_orders(slug):
    """Every order of a "a-vs-b-vs-c" slug's parts, the slug itself excluded."""
    parts = slug.split(SLUG_SEPARATOR)
    if len(parts) < 2 or len(parts) > MAX_PERMUTED_PARTS:
        return []
    orders = {SLUG_SEPARATOR.join(order) for order in permutations(parts)}
    orders.discard(slug)
    return sorted(orders)


def redirect_target(slug):
    """The public comparison an address that is not its own stands for, if any.

    A former slug, or the same frameworks in another order
    (tensorflow-vs-pytorch for pytorch-vs-tensorflow).
    """
    public = Comparison.objects.published()
    old = OldSlug.objects.filter(slug=slug, comparison__in=public).select_related("comparison")
    for old_slug in old:
        return old_slug.comparison
    orders = slug_orders(slug)
    if not orders:
        return None
    match = public.filter(slug__in=orders).order_by("pk").first()
    if match is None:
        old = OldSlug.objects.filter(slug__in=orders, comparison__in=public)
        old_slug = old.select_related("comparison").order_by("pk").first()
        match = old_slug.comparison if old_slug else None
    return match


def render_comparison(request, comparison, preview=False):
    weights = reader_weights(request, comparison)
    if isinstance(weights, HttpResponseRedirect):
        return weights
    participants = list(comparison.participants.all())
    factors = list(comparison.factors.all())
    participants_by_pk = {participant.pk: participant for participant in participants}
    rows = [
        (
            factor,
            factor.assessments_by_participant(participants),
            participants_by_pk.get(factor.winner_id),
        )
        for factor in factors
    ]
    page_url = settings.SITE_URL + comparison.get_absolute_url()
    related = list(Comparison.objects.published().with_listing_data().related_to(comparison))
    response = render(
        request,
        "comparisons/detail.html",
        {
            **weights_context(comparison, weights),
            "participants": participants,
            "rows": rows,
            "scoreboard": comparison.scoreboard(),
            "statistics": list(comparison.statistics.all()),
            "related": related,
            # A weighted view points search engines at the plain page and is not indexed.
            "page_url": page_url,
            "weighted": not weights.is_default,
            "preview": preview,
        },
    )
    # The related comparisons' titles and frameworks are on the page too.
    tag(response, set().union(*map(comparison_keys, [comparison, *related])))
    if weights.notices:
        # Whatever junk a link carried is answered, but never stored in the page cache.
        add_never_cache_headers(response)
    return response


@cache_public_page(query_params=["page"])
def framework_detail(request, slug):
    """A framework's page: what it is, its latest version compared, every published
    comparison it is in with its result there, and the figures that name it.

    A fixed number of queries whatever the catalogue holds: the framework, one
    page of its comparisons (and their count), their other frameworks, the latest
    version recorded and the figures.
    """
    framework = Framework.objects.in_published_comparisons().filter(slug=slug).first()
    if framework is None:
        raise Http404("No published comparison includes this framework.")
    published = Comparison.objects.published()
    participations = (
        Participant.objects.filter(framework=framework, comparison__in=published)
        .select_related("comparison")
        .annotate(
            won=Count("factors_won", distinct=True),
            total=Count("comparison__factors", distinct=True),
            updated=Greatest(
                Coalesce("comparison__content_updated_at", "comparison__published_at"),
                "comparison__published_at",
            ),
        )
        .order_by("-updated", "-comparison__pk")
    )
    try:
        page = Paginator(participations, FRAMEWORK_PAGE_SIZE).page(page_number(request))
    except InvalidPage:
        raise Http404("No page has that number.") from None
    rivals = {}
    others = Participant.objects.filter(
        comparison__in=[participation.comparison_id for participation in page.object_list]
    ).exclude(framework=framework)
    for other in others.select_related("framework"):
        rivals.setdefault(other.comparison_id, []).append(other.framework)
    results = [
        (
            participation,
            framework_result(participation, rivals.get(participation.comparison_id, [])),
        )
        for participation in page.object_list
    ]
    latest = (
        Participant.objects.filter(framework=framework, comparison__in=published)
        .exclude(version="", version_as_of=None)
        .select_related("comparison", "framework")
        .order_by(F("version_as_of").desc(nulls_last=True), "-comparison__published_at")
        .first()
    )
    statistics = (
        Statistic.objects.complete()
        .filter(comparison__in=published, comparison__participants__framework=framework)
        .filter(
            in_any_language("description__icontains", framework.name)
            | Q(value__icontains=framework.name)
        )
        .select_related("comparison")
        .distinct()
        .order_by("-year", "pk")[:FRAMEWORK_STATISTICS]
    )
    page_url = settings.SITE_URL + framework.get_absolute_url()
    shown = [framework, *(rival for names in rivals.values() for rival in names)]
    response = render(
        request,
        "comparisons/framework.html",
        {
            "framework": framework,
            "page": page,
            "results": results,
            "latest": latest,
            "statistics": list(statistics),
            "page_url": page_url if page.number == 1 else f"{page_url}?page={page.number}",
        },
    )
    return tag(
        response,
        [framework_key(shown_framework.pk) for shown_framework in shown]
        + [comparison_key(participation.comparison_id) for participation in page.object_list],
    )


def framework_result(participation, rivals):
    """Its result in one comparison: "won 3 of 5 factors against TensorFlow"."""
    values = {"won": participation.won, "total": participation.total, "rivals": names(rivals)}
    if rivals:
        return (
            ngettext(
                "won %(won)s of %(total)s factor against %(rivals)s",
                "won %(won)s of %(total)s factors against %(rivals)s",
                participation.total,
            )
            % values
        )
    return (
        ngettext(
            "won %(won)s of %(total)s factor",
            "won %(won)s of %(total)s factors",
            participation.total,
        )
        % values
    )


@shows(LISTINGS_KEY)
def search(request):
    """Published comparisons and frameworks matching ``?q=``, best first (search.py).

    Never page-cached here, so a comparison published, unpublished or edited
    shows in the results of the very next request (the HTTP cache in front keeps
    it until the next change purges the listings); never indexed by search
    engines either. A query too long is answered 400 with a message, a page past the
    last 404.
    """
    # The parameters this page is about: the language switcher keeps them.
    request.page_query_params = ("q", "page")
    raw = request.GET.get("q", "")
    number = page_number(request)
    status = 200
    error = ""
    try:
        results = catalogue_search.search(raw, page=number)
    except catalogue_search.QueryTooLong as too_long:
        results, error, status = catalogue_search.SearchResults(query=None), str(too_long), 400
    except InvalidPage:
        raise Http404("No page of results has that number.") from None
    response = render(
        request,
        "comparisons/search.html",
        {
            "results": results,
            "error": error,
            "search_text": raw[: catalogue_search.MAX_QUERY_LENGTH],
        },
        status=status,
    )
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, no_cache=True)
    return response


def methodology(request):
    """How factors and winners are decided and how statistics are sourced."""
    context = {
        "statistic_max_age": apnumber(STATISTIC_MAX_AGE_YEARS),
        "review_interval_days": REVIEW_INTERVAL.days,
    }
    return render(request, "comparisons/methodology.html", context)


def robots_txt(request):
    """Crawl everything public; the admin is not for search engines."""
    return render(
        request,
        "robots.txt",
        {"sitemap_url": settings.SITE_URL + reverse("sitemap")},
        content_type="text/plain; charset=utf-8",
    )

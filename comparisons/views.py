"""Public pages: the list of comparisons and each comparison's page."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from .caching import cache_public_page
from .models import Comparison

HOME_PAGE_SIZE = 30


@cache_public_page(query_params=["category", "page"])
def home(request):
    """Published comparisons, newest first, grouped by category (or one category)."""
    comparisons = Comparison.objects.published().with_listing_data()
    categories = sorted(
        set(Comparison.objects.published().order_by().values_list("category", flat=True))
    )
    selected = request.GET.get("category", "")
    if selected:
        comparisons = comparisons.filter(category=selected)
    page = Paginator(comparisons, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    groups = {}
    for comparison in page.object_list:
        groups.setdefault(comparison.category, []).append(comparison)
    return render(
        request,
        "comparisons/home.html",
        status=404 if selected and selected not in categories else 200,
        context={
            "groups": sorted(groups.items()),
            "page": page,
            "categories": categories,
            "selected_category": selected if selected in categories else "",
            "unknown_category": bool(selected) and selected not in categories,
        },
    )


@cache_public_page()
def comparison_detail(request, slug):
    """A comparison page: verdict, factors, score, statistics and the call to action."""
    try:
        comparison = Comparison.objects.published().with_page_data().get(slug=slug)
    except Comparison.DoesNotExist:
        raise Http404("No published comparison has this address.") from None
    participants = list(comparison.participants.all())
    factors = list(comparison.factors.all())
    participants_by_pk = {participant.pk: participant for participant in participants}
    rows = [
        (factor, factor.assessment_cells(participants), participants_by_pk.get(factor.winner_id))
        for factor in factors
    ]
    return render(
        request,
        "comparisons/detail.html",
        {
            "comparison": comparison,
            "participants": participants,
            "rows": rows,
            "scoreboard": comparison.scoreboard(),
            "statistics": list(comparison.statistics.all()),
        },
    )

"""Public pages: the list of comparisons and each comparison's page."""

from django.http import Http404
from django.shortcuts import render

from .models import Comparison


def home(request):
    """Published comparisons, newest first, grouped by category (or one category)."""
    comparisons = Comparison.objects.published().with_listing_data()
    categories = sorted(set(Comparison.objects.published().values_list("category", flat=True)))
    selected = request.GET.get("category", "")
    if selected:
        comparisons = comparisons.filter(category=selected)
    comparisons = list(comparisons)
    groups = {}
    for comparison in comparisons:
        groups.setdefault(comparison.category, []).append(comparison)
    return render(
        request,
        "comparisons/home.html",
        {
            "groups": sorted(groups.items()),
            "categories": categories,
            "selected_category": selected if selected in categories else "",
            "unknown_category": bool(selected) and selected not in categories,
        },
    )


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

"""Ways from one page to the next: category hubs, the compare picker and the
suggestions that search-as-you-type fields ask for (static/js/suggest.js).

Hubs are public pages, cached like home. The picker and the suggestions answer
whatever a reader types, so they are never cached (their answers are one or two
small queries) and never indexed.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .browse_forms import MAX_NAME_LENGTH, PICKER_PARAMETER, PickerForm
from .caching import LISTINGS_KEY, cache_public_page, category_key, tag
from .models import Comparison, Framework
from .views import paginate

# A longer query matches nothing worth suggesting (titles hold 200 characters).
MAX_SUGGESTION_QUERY = 200


@cache_public_page(query_params=["page"])
def category(request, slug):
    """One category's published comparisons, most recently changed first, paginated."""
    published = Comparison.objects.published()
    names = published.category_names(slug)
    if not names:
        raise Http404("No published comparison is in this category.")
    comparisons = published.filter(category_en__in=names).newest_change_first().with_listing_data()
    page = paginate(request, comparisons)
    page.object_list = list(page.object_list)
    page_url = settings.SITE_URL + reverse("comparisons:category", kwargs={"slug": slug})
    if page.number > 1:
        page_url += f"?page={page.number}"
    response = render(
        request,
        "comparisons/category.html",
        {
            "category": names[0],
            # The hub is named in the page's language by one of its comparisons.
            "named_by": page.object_list[0],
            "slug": slug,
            "page": page,
            "page_url": page_url,
        },
    )
    return tag(response, [LISTINGS_KEY, category_key(names[0])])


def compare_picker(request):
    """Two to four frameworks: their published comparison, or the offer to ask us.

    A 302, not a 301: the comparison of those frameworks may be written later,
    or replaced by another one.
    """
    if PICKER_PARAMETER not in request.GET:
        return render(request, "comparisons/picker.html", {"form": PickerForm()})
    form = PickerForm(request.GET)
    if not form.is_valid():
        return render(request, "comparisons/picker.html", {"form": form}, status=400)
    frameworks = form.cleaned_data["f"]
    comparison = Comparison.objects.published().of_exactly(frameworks).first()
    if comparison is not None:
        return redirect(comparison)
    topic = " vs ".join(framework.name for framework in frameworks)
    book_url = reverse("consultations:book") + "?" + urlencode({"topic": topic})
    return render(
        request,
        "comparisons/picker.html",
        {"form": form, "frameworks": frameworks, "topic": topic, "book_url": book_url},
    )


def typed_text(request, max_length):
    """What the reader typed so far, its spaces tidied; "" when too long to match."""
    typed = " ".join(request.GET.get("q", "").split())
    return typed if len(typed) <= max_length else ""


def suggestion_response(names):
    """{"suggestions": [...names]}, never indexed."""
    response = JsonResponse({"suggestions": list(names)})
    response["X-Robots-Tag"] = "noindex"
    return response


def suggest_frameworks(request):
    """Up to SUGGESTION_COUNT framework names for the picker, from published comparisons."""
    typed = typed_text(request, MAX_NAME_LENGTH)
    if not typed:
        return suggestion_response([])
    frameworks = Framework.objects.in_published_comparisons().suggestions(typed)
    return suggestion_response(frameworks.values_list("name", flat=True))


def suggest_comparisons(request):
    """Up to SUGGESTION_COUNT published titles, for the booking form's comparison field."""
    typed = typed_text(request, MAX_SUGGESTION_QUERY)
    if not typed:
        return suggestion_response([])
    comparisons = Comparison.objects.published().suggestions(typed)
    return suggestion_response(comparisons.values_list("title", flat=True))

"""The page in every language: the switcher's buttons and the hreflang alternates.

{% page_languages as languages %} gives, for the page being shown, one entry per
language it exists in (compare_site.languages.address_in): ``code``, ``name``,
``url`` (absolute, on SITE_URL, without a query string: what search engines
index), ``next`` (this page's address to come back to after switching, with the
reader's view kept: their weights, their search) and ``current``. Empty on a page without a request
(the error pages) or outside the languages (the admin).
"""

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.utils.translation import get_language

from compare_site.languages import address_in

register = template.Library()


def _this_page(request):
    """The address to switch from: the path and only the parameters the page is
    keyed by, as the page cache names them (a cached page is shown to everyone
    asking for that key, so it must not carry another reader's parameters). A
    page the cache does not know keeps its path alone: what a query string asked
    for (a booking form's prefilled comparison) is not echoed back."""
    params = getattr(request, "page_query_params", ())
    query = urlencode(
        [(name, value) for name in params for value in request.GET.getlist(name) if value]
    )
    return f"{request.path}?{query}" if query else request.path


@register.simple_tag(takes_context=True)
def page_languages(context):
    request = context.get("request")
    if request is None:
        return []
    current = get_language()
    here = _this_page(request)
    languages = []
    for code, name in settings.LANGUAGES:
        path = address_in(request.path, code)
        if code != current and path == request.path:
            continue  # no version in that language
        languages.append(
            {
                "code": code,
                "name": name,
                "url": settings.SITE_URL + path,
                "next": here,
                "current": code == current,
            }
        )
    return languages if len(languages) > 1 else []


@register.simple_tag
def default_language_url(languages):
    """x-default: the English address, which picks a first visitor's language."""
    for language in languages:
        if language["code"] == settings.LANGUAGE_CODE:
            return language["url"]
    return ""

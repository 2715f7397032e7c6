"""
Which language a request is answered in: the one home of that rule.

- **The address decides.** English pages keep their addresses (``/compare/x/``),
  German ones live under ``/de/`` (i18n_patterns in compare_site/urls.py). A
  page's language never depends on a cookie or a header, so one address is one
  page, and the page cache, the ETag and the HTTP cache in front can key by the
  address (comparisons/caching.py, deploy/varnish/site.vcl). Addresses outside
  i18n_patterns (the admin, the sitemap, robots.txt, the health checks) are in
  English.
- **A reader's choice is a cookie** (``django_language``), set by the language
  switcher (switch_language below) or by the first visit's redirect.
- **The redirect**: a GET or HEAD of an English address that exists in German,
  from a reader whose choice is German, goes once to the German address (302).
  Without a cookie, the choice is Accept-Language's: German if the reader ranks
  it above English; the redirect then stores that choice in the cookie, so
  Accept-Language is read once. Search-engine crawlers (CRAWLER below) are never
  redirected: the English address is the canonical one they index, and the
  ``hreflang`` alternates tell them where the German is. A German address never
  redirects, so the redirect cannot loop.

Django's own LocaleMiddleware never redirects when the default language has no
prefix (``prefix_default_language=False``): it renders the unprefixed address
in English whatever the reader asks, which is why this middleware stands in its
place.
"""

import re
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def language_field(help_text):
    """The language a person wrote to us in (the address of the page they used),
    which everything sent to them later is written in: a booking's, a reader's report."""
    return models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        db_default=settings.LANGUAGE_CODE,
        editable=False,
        help_text=help_text,
    )


# User agents of search engines and link previewers: they read the English
# address as it is (substring match, case-insensitive).
CRAWLER = re.compile(
    r"bot\b|crawler|spider|slurp|googlebot|bingbot|duckduckbot|baiduspider|yandex"
    r"|facebookexternalhit|embedly|ia_archiver",
    re.IGNORECASE,
)


def language_codes():
    return [code for code, _name in settings.LANGUAGES]


def language_of_path(path):
    """The language an address is in: its prefix's, or the default (English)."""
    return translation.get_language_from_path(path) or settings.LANGUAGE_CODE


def is_crawler(request):
    return bool(CRAWLER.search(request.headers.get("User-Agent", "")))


def chosen_language(request):
    """The reader's stored choice, or None when they have made none."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return code if code in language_codes() else None


def accepted_language(request):
    """The first of our languages in the reader's Accept-Language, or the default."""
    header = request.headers.get("Accept-Language", "")
    for code, _quality in translation.trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        code = code.split("-")[0].lower()
        if code in language_codes():
            return code
    return settings.LANGUAGE_CODE


def address_in(path, language):
    """``path`` (with any query string) in ``language``; the path itself when it has
    no version there (the admin, the sitemap, an address that does not exist)."""
    with translation.override(language_of_path(urlsplit(path).path)):
        return translate_url(path, language)


def first_visit_redirect(request):
    """The redirect of the module's rule, or None."""
    if request.method not in ("GET", "HEAD") or is_crawler(request):
        return None
    if language_of_path(request.path_info) != settings.LANGUAGE_CODE:
        return None
    choice = chosen_language(request)
    language = choice or accepted_language(request)
    if language == settings.LANGUAGE_CODE:
        return None
    target = address_in(request.get_full_path(), language)
    if target == request.get_full_path():
        return None
    response = HttpResponseRedirect(target)
    if choice is None:
        remember_choice(response, language)
    # Never kept by a shared cache (no s-maxage, sets a cookie); said for the rest.
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


def remember_choice(response, language):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LanguageMiddleware:
    """Activate the address's language for the request; send a first visit on (the rule)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        redirect = first_visit_redirect(request)
        if redirect is not None:
            return redirect
        language = language_of_path(request.path_info)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        if language == settings.LANGUAGE_CODE:
            # An English address may redirect a reader whose choice is German.
            patch_vary_headers(response, ["Accept-Language"])
        response.headers.setdefault("Content-Language", language)
        return response


@csrf_exempt  # Public pages carry no CSRF token (it would keep them out of every cache).
@require_POST
def switch_language(request):
    """The switcher's form: remember the reader's choice and show them the page they
    were on in that language. An unknown language or a foreign ``next`` lands on
    the home page, never elsewhere."""
    language = request.POST.get("language")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    parts = urlsplit(next_url)
    next_url = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if language not in language_codes():
        return HttpResponseRedirect(next_url)
    response = HttpResponseRedirect(address_in(next_url, language))
    remember_choice(response, language)
    return response

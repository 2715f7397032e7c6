"""Structured data (JSON-LD) for search engines, built and written in one place.

{% comparison_json_ld comparison page_url %} describes a comparison page;
{% json_ld data %} writes any data in a <script> element, safe whatever it holds.
Django's json_script filter escapes the same way but always writes
type="application/json"; search engines read only type="application/ld+json".
"""

import json

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from comparisons.translation import shown_text

register = template.Library()

# As django.utils.html.json_script: no "<", ">" or "&" can end the element or
# start an HTML construct; JSON readers decode \u003c and friends back.
ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag
def json_ld(data):
    text = json.dumps(data, cls=DjangoJSONEncoder).translate(ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


@register.simple_tag
def comparison_json_ld(comparison, page_url):
    home_url = settings.SITE_URL + reverse("comparisons:home")
    return json_ld(comparison_data(comparison, page_url, home_url))


def comparison_data(comparison, page_url, home_url):
    """JSON-LD for search engines: a WebPage about each framework, with its breadcrumb."""
    data = {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "@id": page_url,
        "url": page_url,
        "name": shown_text(comparison, "title").text,
        "description": shown_text(comparison, "meta_description").text
        or shown_text(comparison, "subtitle").text,
        "about": [software_data(participant) for participant in comparison.participants.all()],
        "breadcrumb": {
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Comparisons", "item": home_url},
                {
                    "@type": "ListItem",
                    "position": 2,
                    "name": shown_text(comparison, "category").text,
                    "item": settings.SITE_URL + comparison.get_category_url(),
                },
                {
                    "@type": "ListItem",
                    "position": 3,
                    "name": shown_text(comparison, "title").text,
                    "item": page_url,
                },
            ],
        },
    }
    dates = {
        "datePublished": comparison.published_at,
        "dateModified": comparison.modified_at,
        "lastReviewed": comparison.last_reviewed_at,
    }
    data.update({key: date.isoformat() for key, date in dates.items() if date})
    return data


def software_data(participant):
    """One compared framework, with the version compared when the editor set one.

    softwareVersion is the version itself. The "as of" date is when the page
    looked at the framework, not when the software changed, so it is not the
    item's dateModified (the page's own dateModified already says when the page
    changed): it goes, with the version, in the words readers see
    (Participant.name_with_version) as the item's disambiguatingDescription.
    """
    framework = participant.framework
    data = {
        "@type": "SoftwareApplication",
        "name": framework.name,
        "applicationCategory": "DeveloperApplication",
    }
    if framework.website:
        data["url"] = framework.website
    if participant.version:
        data["softwareVersion"] = participant.version
    if participant.version_label():
        data["disambiguatingDescription"] = participant.name_with_version()
    return data


@register.simple_tag
def framework_json_ld(framework, page_url, latest=None):
    """JSON-LD for a framework's page: a SoftwareApplication, with the latest version
    compared when the editors recorded one."""
    data = {
        "@context": "https://schema.org",
        "@type": "SoftwareApplication",
        "@id": page_url,
        "url": page_url,
        "name": framework.name,
        "applicationCategory": "DeveloperApplication",
    }
    if framework.description:
        data["description"] = shown_text(framework, "description").text
    if framework.website:
        data["sameAs"] = framework.website
    if latest is not None and latest.version:
        data["softwareVersion"] = latest.version
    return json_ld(data)

"""An Atom feed of comparisons, newest first by publication or content change."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from .models import Comparison
from .translation import shown_text

FEED_LENGTH = 20


class PlainTextSummaryAtomFeed(Atom1Feed):
    """Atom with each entry's summary as plain text.

    Django's Atom1Feed writes ``<summary type="html">``, so a feed reader
    would run the meta description, which editors write as plain text, as
    markup: "<script>" in it would become a live element. ``type="text"``
    says what it is; the XML writer escapes the rest.
    """

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


class ComparisonFeed(Feed):
    feed_type = PlainTextSummaryAtomFeed
    title = _("Compare: new and updated comparisons")
    subtitle = _("Technology comparisons, listed when they are published or their content changes.")
    # No fixed language: Django's Feed says the active one (/feed/ English, /de/feed/ German).

    def link(self):
        return settings.SITE_URL + reverse("comparisons:home")

    def feed_url(self):
        return settings.SITE_URL + reverse("comparisons:feed")

    def items(self):
        return (
            Comparison.objects.published()
            .alias(changed=Greatest("published_at", Coalesce("content_updated_at", "published_at")))
            .order_by("-changed", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, comparison):
        return shown_text(comparison, "title").text

    def item_description(self, comparison):
        return (
            shown_text(comparison, "meta_description").text
            or shown_text(comparison, "subtitle").text
        )

    def item_link(self, comparison):
        return settings.SITE_URL + comparison.get_absolute_url()

    def item_pubdate(self, comparison):
        return comparison.published_at

    def item_updateddate(self, comparison):
        return comparison.modified_at

"""sitemap.xml: every public comparison and category hub, with the date its content
last changed, and every framework page, in English and German."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from .models import Comparison, Framework, category_slug, last_change


class SiteUrlSitemap(Sitemap):
    """Addresses on SITE_URL, the one public address, whatever host the request used,
    in every language, each with its hreflang alternates and x-default (English,
    whose address picks the reader's language on a first visit)."""

    i18n = True
    alternates = True
    x_default = True

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class ComparisonSitemap(SiteUrlSitemap):
    changefreq = "monthly"

    def items(self):
        return Comparison.objects.published().order_by("slug")

    def lastmod(self, comparison):
        return comparison.modified_at


class FrameworkSitemap(SiteUrlSitemap):
    """Frameworks in a published comparison: the ones with a page."""

    changefreq = "monthly"

    def items(self):
        return Framework.objects.in_published_comparisons().order_by("slug")


class CategorySitemap(SiteUrlSitemap):
    """Each category hub, dated by its most recently changed comparison."""

    changefreq = "weekly"

    def items(self):
        hubs = {}
        rows = (
            Comparison.objects.published()
            .values("category_en")
            .annotate(changed_at=Max(last_change()))
            .order_by("category_en")
        )
        for row in rows:
            slug = category_slug(row["category_en"])
            hubs[slug] = max(hubs.get(slug, row["changed_at"]), row["changed_at"])
        return sorted(hubs.items())

    def location(self, hub):
        return reverse("comparisons:category", kwargs={"slug": hub[0]})

    def lastmod(self, hub):
        return hub[1]


class PageSitemap(SiteUrlSitemap):
    changefreq = "weekly"

    def items(self):
        return ["comparisons:home", "comparisons:methodology"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "comparisons": ComparisonSitemap,
    "categories": CategorySitemap,
    "frameworks": FrameworkSitemap,
    "pages": PageSitemap,
}

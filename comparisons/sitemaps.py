"""sitemap.xml: every public comparison, with the date its content last changed, and
every framework page."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Comparison, Framework


class SiteUrlSitemap(Sitemap):
    """Addresses on SITE_URL, the one public address, whatever host the request used."""

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
        return Framework.objects.public().order_by("slug")


class PageSitemap(SiteUrlSitemap):
    changefreq = "weekly"

    def items(self):
        return ["comparisons:home", "comparisons:methodology"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {"comparisons": ComparisonSitemap, "frameworks": FrameworkSitemap, "pages": PageSitemap}

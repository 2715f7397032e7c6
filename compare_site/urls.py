"""The site's URLs: public pages, the booking flow, search-engine files and the admin."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from comparisons.caching import LISTINGS_KEY, shows
from comparisons.sitemaps import SITEMAPS
from comparisons.views import robots_txt

from . import languages, views

admin.site.site_header = "Compare: editors and triage"
admin.site.site_title = "Compare admin"
admin.site.index_title = "Content and consultation requests"

# Outside the languages: one sitemap (listing every language's address with its
# alternates), robots.txt, the switcher's form, the admin and the health checks.
urlpatterns = [
    path("language/", languages.switch_language, name="switch_language"),
    path("sitemap.xml", shows(LISTINGS_KEY)(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("admin/", admin.site.urls),
    path("livez", views.livez, name="livez"),
    path("healthz", views.healthz, name="healthz"),
]

# The public pages in every language: English at today's addresses, German under
# /de/ (compare_site/languages.py decides which a request gets). The feed too: a
# reader subscribes to the language they read.
urlpatterns += i18n_patterns(
    path("", include("comparisons.urls")),
    path("consultations/", include("consultations.urls")),
    prefix_default_language=False,
)

# The 500 page, or the 503 page when the database is down (see compare_site/views.py).
handler500 = "compare_site.views.server_error"

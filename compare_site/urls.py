"""The site's URLs: public pages, the booking flow, search-engine files and the admin."""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from comparisons.caching import LISTINGS_KEY, shows
from comparisons.sitemaps import SITEMAPS
from comparisons.views import robots_txt

from . import views

admin.site.site_header = "Compare: editors and triage"
admin.site.site_title = "Compare admin"
admin.site.index_title = "Content and consultation requests"

urlpatterns = [
    path("", include("comparisons.urls")),
    path("consultations/", include("consultations.urls")),
    path("sitemap.xml", shows(LISTINGS_KEY)(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("admin/", admin.site.urls),
    path("livez", views.livez, name="livez"),
    path("healthz", views.healthz, name="healthz"),
]

# The 500 page, or the 503 page when the database is down (see compare_site/views.py).
handler500 = "compare_site.views.server_error"

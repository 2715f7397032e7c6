"""The site's URLs: public pages, the booking flow and the admin."""

from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "Compare: editors and triage"
admin.site.site_title = "Compare admin"
admin.site.index_title = "Content and consultation requests"

urlpatterns = [
    path("", include("comparisons.urls")),
    path("consultations/", include("consultations.urls")),
    path("admin/", admin.site.urls),
    path("livez", views.livez, name="livez"),
    path("healthz", views.healthz, name="healthz"),
]

# The 500 page, or the 503 page when the database is down (see compare_site/views.py).
handler500 = "compare_site.views.server_error"

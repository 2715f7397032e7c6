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
]

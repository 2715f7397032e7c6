"""The site's URLs plus a view that crashes, to see the 500 page a visitor gets."""

from django.urls import path

from compare_site import urls as site_urls


def crash(request):
    raise RuntimeError("secret-detail: the visitor must never see this")


urlpatterns = [*site_urls.urlpatterns, path("crash/", crash)]
handler500 = site_urls.handler500

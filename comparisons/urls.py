"""Public comparison pages: home, each comparison, the methodology and the Atom feed."""

from django.urls import path

from . import views
from .feeds import ComparisonFeed

app_name = "comparisons"

urlpatterns = [
    path("", views.home, name="home"),
    path("compare/<slug:slug>/", views.comparison_detail, name="detail"),
    path("methodology/", views.methodology, name="methodology"),
    path("feed/", ComparisonFeed(), name="feed"),
]

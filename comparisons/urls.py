"""Public comparison pages: home, each comparison, search, the methodology and the Atom feed."""

from django.urls import path

from . import report_views, views
from .feeds import ComparisonFeed

app_name = "comparisons"

urlpatterns = [
    path("", views.home, name="home"),
    path("compare/<slug:slug>/", views.comparison_detail, name="detail"),
    path("compare/<slug:slug>/result/", views.comparison_result, name="result"),
    path(
        "compare/<slug:slug>/factors/<int:pk>/report/",
        report_views.report_factor,
        name="report_factor",
    ),
    path(
        "compare/<slug:slug>/statistics/<int:pk>/report/",
        report_views.report_statistic,
        name="report_statistic",
    ),
    path("compare/<slug:slug>/report/thanks/", report_views.report_thanks, name="report_thanks"),
    path("search/", views.search, name="search"),
    path("methodology/", views.methodology, name="methodology"),
    path("feed/", ComparisonFeed(), name="feed"),
]

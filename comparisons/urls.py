"""Public comparison pages: home, category hubs, the compare picker, each comparison
and its exports, framework pages, search, the methodology and the Atom feed."""

from django.urls import path

from . import browse_views, export_views, report_views, views
from .caching import LISTINGS_KEY, shows
from .feeds import ComparisonFeed

app_name = "comparisons"

urlpatterns = [
    path("", views.home, name="home"),
    path("categories/<str:slug>/", browse_views.category, name="category"),
    path("compare/", browse_views.compare_picker, name="picker"),
    path("suggest/frameworks/", browse_views.suggest_frameworks, name="suggest_frameworks"),
    path("suggest/comparisons/", browse_views.suggest_comparisons, name="suggest_comparisons"),
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
    path(
        "compare/<slug:slug>/decision.md",
        export_views.decision_markdown,
        name="decision_markdown",
    ),
    path("compare/<slug:slug>/decision.json", export_views.decision_json, name="decision_json"),
    path(
        "schemas/decision-record-1.json",
        export_views.decision_schema,
        name="decision_schema",
    ),
    path("compare/<slug:slug>/report/thanks/", report_views.report_thanks, name="report_thanks"),
    path("frameworks/<slug:slug>/", views.framework_detail, name="framework"),
    path("search/", views.search, name="search"),
    path("methodology/", views.methodology, name="methodology"),
    path("feed/", shows(LISTINGS_KEY)(ComparisonFeed()), name="feed"),
]

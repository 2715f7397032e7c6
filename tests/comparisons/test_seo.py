"""One canonical address per page, structured data, sitemap, robots.txt, feed, methodology."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comparisons.caching import current_content_version
from comparisons.models import OldSlug
from tests.factories import make_comparison, make_framework
from tests.support.admin_forms import change_form_data, change_url
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

HOSTILE_TITLE = "Evil </script><script>alert(\"x\")</script> & 'quotes' <!-- vs -->"


def detail_url(slug):
    return reverse("comparisons:detail", kwargs={"slug": slug})


def json_ld(response):
    """Every JSON-LD block on the page, parsed as a search engine would."""
    blocks = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    return [json.loads(block) for block in blocks]


def pair(*names, **fields):
    frameworks = [make_framework(name) for name in names]
    slug = "-vs-".join(f.slug for f in frameworks)
    return make_comparison(frameworks, slug=slug, **fields)


class TestCanonicalAddress:
    def test_reversed_pair_redirects_permanently(self, client):
        comparison = pair("PyTorch", "TensorFlow")
        response = client.get(detail_url("tensorflow-vs-pytorch"))
        assert response.status_code == 301
        assert response["Location"] == comparison.get_absolute_url()

    @pytest.mark.parametrize(
        "order", ["jax-vs-pytorch-vs-tensorflow", "tensorflow-vs-jax-vs-pytorch"]
    )
    def test_any_order_of_a_three_way_comparison_redirects(self, client, order):
        comparison = pair("PyTorch", "TensorFlow", "JAX")
        assert comparison.slug == "pytorch-vs-tensorflow-vs-jax"
        response = client.get(detail_url(order))
        assert response.status_code == 301
        assert response["Location"] == "/compare/pytorch-vs-tensorflow-vs-jax/"

    def test_reversed_pair_of_a_draft_is_404(self, client):
        pair("PyTorch", "TensorFlow", published=False)
        assert client.get(detail_url("tensorflow-vs-pytorch")).status_code == 404

    def test_a_different_set_of_frameworks_is_not_a_match(self, client):
        pair("PyTorch", "TensorFlow")
        assert client.get(detail_url("pytorch-vs-jax")).status_code == 404
        assert client.get(detail_url("pytorch")).status_code == 404

    def test_changed_slug_redirects_from_the_old_one(self, admin_client, client):
        comparison = make_comparison(factors=1, slug="pytorch-vs-tf")
        data = change_form_data(comparison, slug="pytorch-vs-tensorflow")
        assert admin_client.post(change_url(comparison), data).status_code == 302
        response = client.get(detail_url("pytorch-vs-tf"))
        assert response.status_code == 301
        assert response["Location"] == "/compare/pytorch-vs-tensorflow/"
        assert client.get(detail_url("pytorch-vs-tensorflow")).status_code == 200
        # The reversed old slug leads there too.
        assert client.get(detail_url("tf-vs-pytorch"))["Location"] == (
            "/compare/pytorch-vs-tensorflow/"
        )

    def test_taking_an_old_slug_back_drops_its_redirect(self, admin_client, client):
        comparison = make_comparison(factors=1, slug="first-name")
        url = change_url(comparison)
        admin_client.post(url, change_form_data(comparison, slug="second-name"))
        comparison.refresh_from_db()
        admin_client.post(url, change_form_data(comparison, slug="first-name"))
        assert list(OldSlug.objects.values_list("slug", flat=True)) == ["second-name"]
        assert client.get(detail_url("first-name")).status_code == 200
        assert client.get(detail_url("second-name")).status_code == 301

    def test_canonical_link_uses_the_site_address(self, client):
        comparison = pair("PyTorch", "TensorFlow")
        body = client.get(comparison.get_absolute_url()).content.decode()
        canonical = f"{settings.SITE_URL}/compare/pytorch-vs-tensorflow/"
        assert f'<link rel="canonical" href="{canonical}">' in body
        assert f'<meta property="og:url" content="{canonical}">' in body


class TestSharingTags:
    def test_title_description_open_graph_and_twitter(self, client):
        comparison = make_comparison(
            title="PyTorch vs TensorFlow", meta_description="Which one to pick in 2026."
        )
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert "<title>PyTorch vs TensorFlow · Compare</title>" in body
        assert '<meta name="description" content="Which one to pick in 2026.">' in body
        assert '<meta property="og:title" content="PyTorch vs TensorFlow">' in body
        assert '<meta property="og:description" content="Which one to pick in 2026.">' in body
        assert '<meta property="og:type" content="article">' in body
        assert '<meta name="twitter:card" content="summary">' in body
        assert '<meta name="twitter:title" content="PyTorch vs TensorFlow">' in body

    def test_hostile_title_is_escaped_in_tags(self, client):
        comparison = make_comparison(title=HOSTILE_TITLE)
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert '<script>alert("x")' not in body
        assert "&lt;/script&gt;" in body


class TestStructuredData:
    def test_json_ld_describes_the_page(self, client):
        comparison = pair(
            "PyTorch",
            "TensorFlow",
            published_at=datetime(2026, 1, 10, tzinfo=UTC),
            content_updated_at=datetime(2026, 3, 2, tzinfo=UTC),
            last_reviewed_at=datetime(2026, 4, 5, tzinfo=UTC),
            category="Machine learning",
        )
        (data,) = json_ld(client.get(comparison.get_absolute_url()))
        url = f"{settings.SITE_URL}/compare/pytorch-vs-tensorflow/"
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "WebPage"
        assert data["url"] == url
        assert data["name"] == comparison.title
        assert [(a["@type"], a["name"]) for a in data["about"]] == [
            ("SoftwareApplication", "PyTorch"),
            ("SoftwareApplication", "TensorFlow"),
        ]
        assert data["datePublished"] == "2026-01-10T00:00:00+00:00"
        assert data["dateModified"] == "2026-03-02T00:00:00+00:00"
        assert data["lastReviewed"] == "2026-04-05T00:00:00+00:00"
        crumbs = data["breadcrumb"]["itemListElement"]
        assert data["breadcrumb"]["@type"] == "BreadcrumbList"
        assert [(c["position"], c["name"]) for c in crumbs] == [
            (1, "Comparisons"),
            (2, "Machine learning"),
            (3, comparison.title),
        ]
        assert crumbs[1]["item"] == f"{settings.SITE_URL}/categories/machine-learning/"
        assert crumbs[2]["item"] == url
        assert "aggregateRating" not in json.dumps(data) and "ratingValue" not in json.dumps(data)

    def test_json_ld_survives_a_hostile_title(self, client):
        comparison = make_comparison(title=HOSTILE_TITLE, meta_description='"</script>')
        response = client.get(comparison.get_absolute_url())
        (data,) = json_ld(response)
        assert data["name"] == HOSTILE_TITLE
        assert data["description"] == '"</script>'
        body = response.content.decode()
        # Exactly one inline script element (the JSON-LD; the other is the weights'
        # served file) and nothing an editor typed closes it.
        assert body.count("<script") == 2
        assert body.count('<script type="application/ld+json">') == 1
        assert body.count('<script src="/static/js/weights.') == 1
        assert "\\u003C/script\\u003E" in body

    def test_never_reviewed_page_has_no_invented_review_date(self, client):
        comparison = make_comparison()
        (data,) = json_ld(client.get(comparison.get_absolute_url()))
        assert "lastReviewed" not in data
        assert data["dateModified"] == data["datePublished"]

    def test_public_page_query_count_is_unchanged(self, client):
        comparison = make_comparison(factors=5, statistics=2)
        current_content_version()  # the page cache's own bookkeeping, done once per edit
        with CaptureQueriesContext(connection) as queries:
            assert client.get(comparison.get_absolute_url()).status_code == 200
        # the page's 5, and 1 for its related comparisons: none, so nothing to prefetch
        # (tests/comparisons/test_navigation.py pins the count with related ones)
        assert len(queries) == 6


def sitemap_entries(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring(response.content)  # noqa: S314 (our own response)
    return {
        url.findtext("s:loc", namespaces=namespace): url.findtext("s:lastmod", namespaces=namespace)
        for url in root.findall("s:url", namespace)
    }


class TestSitemap:
    def test_lists_published_pages_only_with_their_content_date(self, client):
        live = make_comparison(
            slug="live-one",
            published_at=datetime(2026, 1, 10, tzinfo=UTC),
            content_updated_at=datetime(2026, 2, 20, tzinfo=UTC),
        )
        make_comparison(slug="draft-one", published=False)
        make_comparison(slug="future-one", published_at=datetime(2100, 1, 1, tzinfo=UTC))
        entries = sitemap_entries(client)
        live_url = settings.SITE_URL + live.get_absolute_url()
        assert entries[live_url].startswith("2026-02-20")
        assert not any("draft-one" in url or "future-one" in url for url in entries)
        assert settings.SITE_URL + reverse("comparisons:methodology") in entries

    def test_robots_txt_points_at_the_sitemap(self, client):
        response = client.get("/robots.txt")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        text = response.content.decode()
        assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in text
        assert "Disallow: /admin/" in text


class TestFeed:
    def test_atom_feed_lists_new_and_updated_comparisons(self, client):
        make_comparison(title="Old page", published_at=datetime(2026, 1, 1, tzinfo=UTC))
        make_comparison(
            title="Updated page",
            published_at=datetime(2025, 1, 1, tzinfo=UTC),
            content_updated_at=datetime(2026, 5, 1, tzinfo=UTC),
        )
        make_comparison(title="Draft page", published=False)
        response = client.get(reverse("comparisons:feed"))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/atom+xml")
        root = ET.fromstring(response.content)  # noqa: S314 (our own response)
        atom = {"a": "http://www.w3.org/2005/Atom"}
        entries = root.findall("a:entry", atom)
        titles = [entry.findtext("a:title", namespaces=atom) for entry in entries]
        assert titles == ["Updated page", "Old page"]
        assert entries[0].findtext("a:updated", namespaces=atom).startswith("2026-05-01")
        link = entries[0].find("a:link", atom).get("href")
        assert link.startswith(settings.SITE_URL + "/compare/")

    def test_the_summary_is_plain_text_so_markup_in_it_never_runs(self, client):
        description = '<script>alert(1)</script> & <img src=x onerror="alert(2)">'
        make_comparison(title="Hostile page", meta_description=description)
        response = client.get(reverse("comparisons:feed"))
        body = response.content.decode()
        assert "<script>" not in body and "<img" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img" in body
        root = ET.fromstring(response.content)  # noqa: S314 (our own response)
        atom = {"a": "http://www.w3.org/2005/Atom"}
        summary = root.find("a:entry/a:summary", atom)
        assert summary.get("type") == "text"
        assert summary.text == description  # the editor's words, as text
        assert 'type="html"' not in body


class TestMethodology:
    def test_methodology_page_explains_winners_and_sources(self, client):
        text = page_text(client.get(reverse("comparisons:methodology")))
        assert "Factors and winners" in text
        assert "How statistics are sourced" in text
        assert "not a rating" in text

    def test_linked_from_every_comparison_page_and_the_footer(self, client):
        comparison = make_comparison()
        methodology = reverse("comparisons:methodology")
        body = client.get(comparison.get_absolute_url()).content.decode()
        assert body.count(f'href="{methodology}') >= 3  # dates line, statistics, footer
        home = client.get(reverse("comparisons:home")).content.decode()
        assert f'href="{methodology}"' in home

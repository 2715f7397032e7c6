"""From one page to the next: related comparisons, category hubs, the compare picker,
the suggestions behind search-as-you-type, and query counts that ignore the catalogue."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comparisons.caching import current_content_version
from comparisons.demo import load_demo_content
from comparisons.models import RELATED_COUNT, SUGGESTION_COUNT, Comparison, category_slug
from tests.factories import make_comparison, make_framework
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

PICKER_URL = reverse("comparisons:picker")


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def related_titles(client, comparison):
    body = client.get(comparison.get_absolute_url()).content.decode()
    section = re.search(r'<section class="related".*?</section>', body, re.S)
    return (
        re.findall(r'<h3 class="card__title"><a href="[^"]*">([^<]*)</a>', section[0])
        if (section)
        else []
    )


def count_queries(client, url):
    current_content_version()  # the page cache's own bookkeeping, done once per edit
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


class TestRelatedComparisons:
    @pytest.fixture
    def frameworks(self):
        return {name: make_framework(name) for name in ("PyTorch", "TensorFlow", "JAX", "Keras")}

    @pytest.fixture
    def page(self, frameworks):
        return make_comparison(
            [frameworks["PyTorch"], frameworks["TensorFlow"]], title="Page", category="ML"
        )

    def test_most_shared_frameworks_then_category_then_latest_change(self, client, frameworks):
        pytorch, tensorflow, jax, keras = frameworks.values()
        page = make_comparison([pytorch, tensorflow], title="Page", category="ML")
        make_comparison([tensorflow, pytorch, jax], title="Both, other category", category="X")
        make_comparison([jax, keras], title="Same category, nothing shared", category="ML")
        make_comparison([pytorch, keras], title="One shared, old", published_at=days_ago(30))
        make_comparison(
            [pytorch, jax],
            title="One shared, updated lately",
            published_at=days_ago(40),
            content_updated_at=days_ago(1),
        )
        make_comparison([tensorflow, keras], title="One shared, same category", category="ML")
        make_comparison([keras, jax], title="Unrelated", category="Databases")
        make_comparison([pytorch, jax], title="A draft", published=False)
        assert related_titles(client, page) == [
            "Both, other category",
            "One shared, same category",
            "One shared, updated lately",
            "One shared, old",
            "Same category, nothing shared",
        ]

    def test_at_most_six_and_never_the_page_itself(self, client, frameworks, page):
        for number in range(RELATED_COUNT + 3):
            make_comparison([frameworks["PyTorch"], make_framework()], title=f"Other {number}")
        titles = related_titles(client, page)
        assert len(titles) == RELATED_COUNT
        assert "Page" not in titles

    def test_each_shows_its_title_link_and_frameworks(self, client, frameworks, page):
        other = make_comparison([frameworks["PyTorch"], frameworks["JAX"]], title="<b>Other</b>")
        body = client.get(page.get_absolute_url()).content.decode()
        assert f'<a href="{other.get_absolute_url()}">&lt;b&gt;Other&lt;/b&gt;</a>' in body
        assert "PyTorch vs JAX" in page_text(client.get(page.get_absolute_url()))
        # At the end of the article, before the call to action.
        assert body.index('id="related-heading"') < body.index('id="cta-heading"')

    def test_a_page_with_nothing_related_has_no_empty_section(self, client, page):
        assert 'id="related-heading"' not in client.get(page.get_absolute_url()).content.decode()

    def test_a_newly_published_comparison_shows_on_the_cached_page(self, client, frameworks, page):
        assert related_titles(client, page) == []
        make_comparison([frameworks["PyTorch"], frameworks["JAX"]], title="Just published")
        assert related_titles(client, page) == ["Just published"]


class TestCategoryHub:
    @pytest.fixture
    def hub(self):
        for number in range(3):
            make_comparison(
                title=f"Database {number}", category="Databases", published_at=days_ago(10 - number)
            )
        make_comparison(title="A web framework", category="Web")
        make_comparison(title="Draft database", category="Databases", published=False)
        return reverse("comparisons:category", kwargs={"slug": "databases"})

    def test_lists_its_comparisons_most_recently_changed_first(self, client, hub):
        Comparison.objects.filter(title="Database 0").update(content_updated_at=days_ago(0))
        response = client.get(hub)
        text = page_text(response)
        assert response.status_code == 200
        assert "Databases comparisons" in text
        assert text.index("Database 0") < text.index("Database 2") < text.index("Database 1")
        assert "A web framework" not in text and "Draft database" not in text

    def test_canonical_address_and_breadcrumb(self, client, hub, settings):
        body = client.get(hub).content.decode()
        assert f'<link rel="canonical" href="{settings.SITE_URL}/categories/databases/">' in body
        assert '<a href="/">Comparisons</a>' in body

    def test_unknown_category_is_404(self, client, hub):
        assert client.get("/categories/nope/").status_code == 404
        # Only the hub's own spelling: the slug, not the name.
        assert client.get("/categories/Databases/").status_code == 404

    def test_pages_and_an_out_of_range_page_is_404(self, client, monkeypatch):
        monkeypatch.setattr("comparisons.views.HOME_PAGE_SIZE", 2)
        for number in range(3):
            make_comparison(title=f"DB {number}", category="Databases")
        hub = reverse("comparisons:category", kwargs={"slug": "databases"})
        assert "Page 1 of 2" in page_text(client.get(hub))
        second = client.get(hub, {"page": "2"})
        assert second.status_code == 200 and "Page 2 of 2" in page_text(second)
        assert f'href="{hub}" rel="prev"' in second.content.decode()
        for junk in ("3", "0", "x", "02"):
            assert client.get(hub, {"page": junk}).status_code == 404

    def test_a_comparison_page_breadcrumb_and_the_home_page_link_to_the_hub(self, client, hub):
        comparison = Comparison.objects.get(title="Database 1")
        assert (
            f'<a href="{hub}">Databases</a>'
            in client.get(comparison.get_absolute_url()).content.decode()
        )
        assert f'href="{hub}"' in client.get(reverse("comparisons:home")).content.decode()

    def test_is_cached_like_the_home_page(self, client, hub):
        client.get(hub)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(hub).status_code == 200
        assert len(queries) == 0

    def test_in_the_sitemap_dated_by_its_latest_change(self, client):
        make_comparison(category="Machine learning", published_at=datetime(2026, 1, 2, tzinfo=UTC))
        make_comparison(
            category="Machine learning",
            published_at=datetime(2026, 1, 5, tzinfo=UTC),
            content_updated_at=datetime(2026, 2, 1, tzinfo=UTC),
        )
        body = client.get("/sitemap.xml").content.decode()
        assert re.search(
            r"<loc>[^<]*/categories/machine-learning/</loc>\s*<lastmod>2026-02-01</lastmod>", body
        )

    @pytest.mark.parametrize(
        ("name", "slug"),
        [("Machine learning", "machine-learning"), ("Données", "données"), ("!!!", "other")],
    )
    def test_slugs(self, client, name, slug):
        assert category_slug(name) == slug
        make_comparison(title="In it", category=name)
        response = client.get(reverse("comparisons:category", kwargs={"slug": slug}))
        assert response.status_code == 200 and "In it" in page_text(response)


class TestComparePicker:
    @pytest.fixture(autouse=True)
    def seed(self):
        load_demo_content()

    def pick(self, client, *names):
        return client.get(PICKER_URL, {"f": list(names)})

    def test_finds_the_seed_comparison_from_tensorflow_and_pytorch(self, client):
        response = self.pick(client, "TensorFlow", "PyTorch")
        assert response.status_code == 302
        assert response["Location"] == "/compare/pytorch-vs-tensorflow/"

    @pytest.mark.parametrize(
        "names",
        [
            ("pytorch", "tensorflow"),
            (" PyTorch ", "", "TENSORFLOW", ""),
            ("PyTorch", "tensorflow", "pytorch"),
        ],
    )
    def test_any_case_slug_or_order_and_empty_inputs(self, client, names):
        assert self.pick(client, *names)["Location"] == "/compare/pytorch-vs-tensorflow/"

    def test_the_home_page_has_the_picker_with_labels(self, client):
        body = client.get(reverse("comparisons:home")).content.decode()
        assert f'action="{PICKER_URL}"' in body and 'method="get"' in body
        for number in range(1, 5):
            assert f'for="picker-{number}"' in body and f'id="picker-{number}" name="f"' in body
        assert 'src="/static/js/suggest.' in body and "<script>" not in body

    @pytest.mark.parametrize(
        ("names", "message"),
        [
            (("PyTorch",), "Pick at least 2 different frameworks"),
            (("PyTorch", "pytorch"), "Pick at least 2 different frameworks"),
            (("", ""), "Pick at least 2 different frameworks"),
            (("a", "b", "c", "d", "e"), "Pick at most 4 frameworks"),
            (("PyTorch", "Nope"), "We have no comparison with “Nope” yet"),
            (("PyTorch", "x" * 5000), "We have no comparison with"),
            (("PyTorch", "<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ],
    )
    def test_a_clear_message_never_a_500(self, client, names, message):
        response = self.pick(client, *names)
        assert response.status_code == 400
        body = response.content.decode()
        assert message in body
        assert 'role="alert"' in body and 'aria-describedby="picker-errors"' in body
        assert "<script>alert" not in body

    def test_a_framework_only_in_drafts_is_unknown(self, client):
        make_comparison([make_framework("Secret"), make_framework("Hidden")], published=False)
        response = self.pick(client, "Secret", "PyTorch")
        assert "We have no comparison with “Secret” yet" in response.content.decode()

    def test_no_comparison_yet_offers_the_consultation_about_them(self, client):
        make_comparison([make_framework("JAX"), make_framework("Keras")])
        response = self.pick(client, "pytorch", "jax")
        assert response.status_code == 200
        body = response.content.decode()
        assert "No comparison of PyTorch vs JAX yet" in page_text(response)
        assert 'href="/consultations/book/?topic=PyTorch+vs+JAX"' in body
        assert '<meta name="robots" content="noindex">' in body
        # The reader's names stay in the inputs, to change one.
        assert 'value="pytorch"' in body and 'value="jax"' in body

    def test_exactly_those_frameworks_not_a_bigger_comparison(self, client):
        pytorch = Comparison.objects.get().participants.first().framework
        make_comparison([pytorch, make_framework("JAX"), make_framework("Keras")], slug="three")
        assert self.pick(client, "PyTorch", "JAX", "Keras")["Location"] == "/compare/three/"
        assert self.pick(client, "PyTorch", "JAX").status_code == 200

    def test_the_page_on_its_own(self, client):
        response = client.get(PICKER_URL)
        assert response.status_code == 200
        assert "Compare frameworks" in page_text(response)
        assert 'role="alert"' not in response.content.decode()


class TestSuggestions:
    def suggestions(self, client, name, query):
        response = client.get(reverse(f"comparisons:suggest_{name}"), {"q": query})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        return json.loads(response.content)["suggestions"]

    def test_frameworks_in_published_comparisons_names_starting_with_it_first(self, client):
        make_comparison([make_framework("PyTorch"), make_framework("Apytor")])
        make_comparison(
            [make_framework("Pytorch Lightning-draft"), make_framework("B")], published=False
        )
        assert self.suggestions(client, "frameworks", "pytor") == ["PyTorch", "Apytor"]

    def test_at_most_ten(self, client):
        for number in range(SUGGESTION_COUNT + 5):
            make_comparison(title=f"Tool {number:02d} vs Other")
        assert len(self.suggestions(client, "comparisons", "tool")) == SUGGESTION_COUNT
        assert len(self.suggestions(client, "frameworks", "framework")) == SUGGESTION_COUNT

    def test_published_comparison_titles(self, client):
        make_comparison(title="PyTorch vs TensorFlow")
        make_comparison(title="PyTorch vs JAX (draft)", published=False)
        assert self.suggestions(client, "comparisons", "pytorch") == ["PyTorch vs TensorFlow"]

    @pytest.mark.parametrize("query", ["", "   ", "x" * 1000, "%", "_", "' OR 1=1 --"])
    def test_empty_long_or_hostile_queries_suggest_nothing(self, client, query):
        make_comparison(title="PyTorch vs TensorFlow")
        assert self.suggestions(client, "comparisons", query) == []
        assert self.suggestions(client, "frameworks", query) == []


class TestScale:
    """The query counts of the pages that list comparisons ignore the catalogue's size."""

    def catalogue(self, size):
        shared = make_framework()
        for _ in range(size):
            make_comparison([shared, make_framework()], factors=2, category="Databases")
        return Comparison.objects.published().first()

    @pytest.mark.parametrize(
        ("url", "queries"),
        [
            # categories, count for the pages, comparisons, participants+frameworks
            (lambda page: reverse("comparisons:home"), 4),
            # the same four, the categories read to know the hub's names
            (lambda page: reverse("comparisons:category", kwargs={"slug": "databases"}), 4),
            # the page's five, related comparisons, their participants+frameworks
            (lambda page: page.get_absolute_url(), 7),
        ],
        ids=["home", "hub", "comparison-with-related"],
    )
    def test_5_or_50_comparisons_the_same_queries(self, client, url, queries):
        counts = []
        for size in (5, 50):
            Comparison.objects.all().delete()
            page = self.catalogue(size)
            counts.append(count_queries(client, url(page)))
        assert counts == [queries, queries]

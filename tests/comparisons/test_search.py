"""Search (comparisons/search.py and the /search/ page), on whichever database runs.

The same behaviour is asked of PostgreSQL's full-text search and of SQLite's
fallback: typos and words typed apart still find a framework, drafts never
show, changes show on the next request, any text gets an answer. What only
PostgreSQL does (ranking, the stored vector, the indexes) is in
test_search_postgresql.py.

The stored vectors are written after commit (search.content_changed), so the
tests that change content on PostgreSQL do it inside ``committed()``, which runs
the after-commit work as a real commit would.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparisons import search
from comparisons.caching import current_content_version
from comparisons.demo import load_demo_content
from comparisons.models import Comparison
from tests.comparisons.test_hostile_input import HOSTILE_FRAGMENTS, assert_page_is_safe
from tests.factories import make_comparison, make_framework
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

SEARCH_URL = reverse("comparisons:search")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the search vectors) as a real commit would."""

    def committed_():
        return django_capture_on_commit_callbacks(execute=True)

    return committed_


@pytest.fixture
def seed(committed):
    with committed():
        load_demo_content()
    return Comparison.objects.get(slug="pytorch-vs-tensorflow")


def results_for(client, query, **params):
    response = client.get(SEARCH_URL, {"q": query, **params})
    assert response.status_code == 200, response.status_code
    return response


def result_slugs(response):
    return [hit.comparison.slug for hit in response.context["results"].hits]


class TestFinding:
    def test_the_seed_page_by_its_words(self, client, seed):
        for query in ["PyTorch", "tensorflow", "deep learning", "edge deployment"]:
            assert result_slugs(results_for(client, query)) == [seed.slug], query

    def test_a_typo_in_a_framework_name(self, client, seed):
        response = results_for(client, "pytroch")
        assert result_slugs(response) == [seed.slug]
        assert [hit.framework.name for hit in response.context["results"].frameworks] == ["PyTorch"]
        # What the reader meant is highlighted.
        assert "<mark>PyTorch</mark> vs TensorFlow" in response.content.decode()

    def test_words_typed_apart(self, client, seed):
        response = results_for(client, "tensor flow")
        assert result_slugs(response) == [seed.slug]
        assert "TensorFlow" in [
            hit.framework.name for hit in response.context["results"].frameworks
        ]

    def test_factor_names_and_assessments(self, client, seed):
        response = results_for(client, "pythonic")
        assert result_slugs(response) == [seed.slug]
        # The page says which factor matched, since the title does not show it.
        text = page_text(response)
        assert "Factor “Developer Experience” , PyTorch: Pythonic , intuitive eager" in text
        assert "<mark>Pythonic</mark>" in response.content.decode()

    def test_framework_descriptions(self, client, committed):
        with committed():
            framework = make_framework("Polars", description="A fast dataframe library.")
            comparison = make_comparison([framework, make_framework("pandas")])
        assert result_slugs(results_for(client, "dataframe")) == [comparison.slug]

    def test_a_minus_leaves_out_what_follows_it(self, client, committed):
        with committed():
            plain = make_comparison(title="Vite vs Webpack")
            make_comparison(title="Vite vs Rollup")
        assert result_slugs(results_for(client, "vite -rollup")) == [plain.slug]

    def test_nothing_found_says_so(self, client, seed):
        response = results_for(client, "cobol mainframe")
        assert result_slugs(response) == []
        assert "No published comparison matches your search." in page_text(response)
        assert "browse every comparison" in page_text(response)

    def test_drafts_and_scheduled_comparisons_never_show(self, client, committed):
        with committed():
            make_comparison(title="Quarkus vs Micronaut draft", published=False)
            make_comparison(
                title="Quarkus vs Micronaut scheduled",
                published_at=timezone.now() + timedelta(days=1),
            )
        response = results_for(client, "quarkus")
        assert result_slugs(response) == []
        assert "Micronaut" not in page_text(response)

    def test_a_framework_only_in_drafts_is_not_listed(self, client, committed):
        with committed():
            hidden = make_framework("Hiddenframe")
            make_comparison([hidden, make_framework("Otherframe")], published=False)
        response = results_for(client, "hiddenframe")
        assert response.context["results"].frameworks == []

    def test_framework_results_link_to_their_comparisons(self, client, seed):
        response = results_for(client, "PyTorch")
        hit = response.context["results"].frameworks[0]
        assert hit.framework.name == "PyTorch"
        assert hit.comparison_count == 1
        assert f'<a href="{seed.get_absolute_url()}">' in response.content.decode()


class TestFreshness:
    """Publishing, unpublishing and editing change the very next request's results."""

    def test_publish_and_unpublish(self, client, committed):
        with committed():
            comparison = make_comparison(
                title="Ktor vs Javalin", published=False, factors=1, meta_description="x"
            )
        assert result_slugs(results_for(client, "ktor")) == []
        with committed():
            assert comparison.publish() == []
        assert result_slugs(results_for(client, "ktor")) == [comparison.slug]
        with committed():
            comparison.unpublish()
        assert result_slugs(results_for(client, "ktor")) == []

    def test_editing_the_title(self, client, committed):
        with committed():
            comparison = make_comparison(title="Oldname vs Other")
        assert result_slugs(results_for(client, "oldname")) == [comparison.slug]
        with committed():
            comparison.title = "Newname vs Other"
            comparison.save()
        assert result_slugs(results_for(client, "oldname")) == []
        assert result_slugs(results_for(client, "newname")) == [comparison.slug]

    def test_editing_a_factor_and_an_assessment(self, client, committed):
        with committed():
            comparison = make_comparison(factors=1)
        factor = comparison.factors.get()
        assessment = factor.assessments.first()
        with committed():
            factor.name = "Throughput"
            factor.save()
            assessment.text = "Vectorised kernels"
            assessment.save()
        assert result_slugs(results_for(client, "throughput")) == [comparison.slug]
        assert result_slugs(results_for(client, "vectorised")) == [comparison.slug]
        with committed():
            factor.delete()
        assert result_slugs(results_for(client, "throughput")) == []
        assert result_slugs(results_for(client, "vectorised")) == []

    def test_renaming_a_framework(self, client, committed):
        with committed():
            framework = make_framework("Oldframework")
            comparison = make_comparison([framework, make_framework("Steady")])
        with committed():
            framework.name = "Renamedframework"
            framework.save()
        assert result_slugs(results_for(client, "renamedframework")) == [comparison.slug]

    def test_results_are_not_kept_by_the_page_cache(self, client, seed):
        response = results_for(client, "pytorch")
        assert "no-cache" in response["Cache-Control"]
        assert "ETag" not in response


class TestPage:
    def test_not_for_search_engines(self, client, seed):
        response = results_for(client, "pytorch")
        assert response["X-Robots-Tag"] == "noindex"
        assert '<meta name="robots" content="noindex">' in response.content.decode()

    def test_empty_query_asks_for_words(self, client, seed):
        for params in [{}, {"q": ""}, {"q": "   "}, {"q": "\x00\x01"}]:
            response = client.get(SEARCH_URL, params)
            assert response.status_code == 200
            assert "Type the name of a framework" in page_text(response)

    def test_a_query_over_200_characters_is_refused_clearly(self, client, seed):
        response = client.get(SEARCH_URL, {"q": "pytorch " * 30})
        assert response.status_code == 400
        assert "Searches can be at most 200 characters long." in page_text(response)
        # Exactly 200 is fine.
        assert client.get(SEARCH_URL, {"q": "p" * 200}).status_code == 200

    def test_page_numbers(self, client, committed):
        with committed():
            framework = make_framework("Pagedframework")
            for _ in range(search.PAGE_SIZE + 1):
                make_comparison([framework, make_framework()])
        first = results_for(client, "pagedframework")
        assert len(first.context["results"].hits) == search.PAGE_SIZE
        assert "Page 1 of 2" in page_text(first)
        second = results_for(client, "pagedframework", page="2")
        assert len(second.context["results"].hits) == 1
        for page in ["3", "0", "02", "x", "-1"]:
            response = client.get(SEARCH_URL, {"q": "pagedframework", "page": page})
            assert response.status_code == 404, page
        assert client.get(SEARCH_URL, {"page": "2"}).status_code == 404

    def test_the_header_box_is_on_every_page_and_keeps_the_query(self, client, seed):
        home = client.get(reverse("comparisons:home")).content.decode()
        assert 'role="search"' in home
        assert f'action="{SEARCH_URL}"' in home
        assert (
            'value="PyTorch &quot;x&quot;"' in results_for(client, 'PyTorch "x"').content.decode()
        )

    def test_titles_are_escaped_around_the_highlight(self, client, committed):
        with committed():
            make_comparison(
                title="<script>alert(1)</script> Scriptframe vs <b>Bold</b>",
                subtitle='Scriptframe "quoted" & <img src=x onerror=alert(1)>',
            )
        html = results_for(client, "scriptframe").content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Scriptframe</mark> vs" in html
        assert "&lt;b&gt;Bold&lt;/b&gt;" in html
        # Searching for markup highlights it as text.
        html = results_for(client, "<script>").content.decode()
        assert "<script>alert" not in html


class TestQueryCount:
    def test_does_not_grow_with_the_catalogue(self, client, committed, django_assert_num_queries):
        """Frameworks, their comparisons, the count, the page's keys (ranked), its
        comparisons, their frameworks, the factor that matched (titles do not show
        the word here): seven queries for 5 comparisons or 50, in a transaction
        (here a savepoint and its release); PostgreSQL's also sets the planner to
        prefer indexes, and reads the keys of the matching frameworks and of those
        named like a typo first, and here (the framework's name also matches like a
        typo, so the comparisons are a union) reads the count and the page's keys
        in one query; SQLite's fallback reads the framework names instead."""
        framework = make_framework("Countframe")

        def add(number):
            with committed():
                for _ in range(number):
                    make_comparison([framework, make_framework()], factors=3, title="Pairs")
            # The shared cache's lifetime reads the content state, once per edit.
            current_content_version()

        add(5)
        # The first visit warms what is not per request (the session, content types).
        client.get(SEARCH_URL, {"q": "countframe"})
        expected = 11 if connection.vendor == "postgresql" else 10
        with django_assert_num_queries(expected):
            response = results_for(client, "countframe")
        assert len(response.context["results"].hits) == 5
        assert all(hit.factor_name == "Factor 1" for hit in response.context["results"].hits)
        add(45)
        with django_assert_num_queries(expected):
            response = results_for(client, "countframe", page="2")
        assert response.context["results"].count == 50
        assert len(response.context["results"].hits) == search.PAGE_SIZE

    def test_words_alone_are_counted_and_paged_in_one_query(
        self, client, committed, django_assert_num_queries
    ):
        """A word in the titles and no framework's name: the page's keys and the
        count come from one ranked query on PostgreSQL (no COUNT apart), and no
        factor is looked up, as the titles show the word. SQLite counts apart and
        reads no framework keys first: eight queries on both."""
        with committed():
            for _ in range(25):
                make_comparison([make_framework(), make_framework()], factors=2, title="Pairs")
        current_content_version()
        client.get(SEARCH_URL, {"q": "pairs"})
        with django_assert_num_queries(8) as captured:
            response = results_for(client, "pairs", page="2")
        assert response.context["results"].count == 25
        assert len(response.context["results"].hits) == 5
        counts = [query for query in captured if query["sql"].startswith("SELECT COUNT(*)")]
        assert len(counts) == (0 if connection.vendor == "postgresql" else 1)


class TestQueryParsing:
    def test_control_characters_become_spaces(self):
        query = search.parse_query("py\x00torch\tand\x1bjax\u202e")
        assert query.text == "py torch and jax"

    def test_operators_are_not_words_to_highlight(self):
        query = search.parse_query('"deep learning" or jax -keras')
        assert query.words == ("deep", "learning", "jax")
        assert query.excluded == ("keras",)
        # Quotes or a minus: taken literally, no joining of words, no typo matching.
        assert query.literal
        assert query.joined == ""
        assert search.parse_query("deep learning").joined == "deeplearning"

    def test_words_are_bounded(self):
        query = search.parse_query(" ".join(f"w{n}" for n in range(40)))
        assert len(query.words) == search.MAX_TERMS

    def test_highlight_marks_word_beginnings_only(self):
        html = search.highlight("Learning to learn, unlearned <learn>", ["learn"])
        assert html == (
            "<mark>Learning</mark> to <mark>learn</mark>, unlearned &lt;<mark>learn</mark>&gt;"
        )

    def test_excerpt_shows_the_first_match(self):
        text = "filler " * 60 + "the needle is here " + "filler " * 60
        cut = search.excerpt(text, ["needle"])
        assert "needle" in cut
        assert cut.startswith("…") and cut.endswith("…")
        assert len(cut) <= search.EXCERPT_LENGTH + 2


HOSTILE = st.one_of(
    st.text(max_size=250),
    st.lists(
        st.sampled_from(
            [
                *HOSTILE_FRAGMENTS,
                *'"()&|!-\\%_:*<>',
                ":*",
                "<->",
                " or ",
                " OR ",
                " -",
                "pytorch",
                "tensor flow",
                " ",
            ]
        ),
        max_size=30,
    ).map("".join),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=HOSTILE, page=st.sampled_from(["", "1", "2", "x"]))
def test_any_text_gets_an_answer_never_a_500(client, seed, query, page):
    response = client.get(SEARCH_URL, {"q": query, **({"page": page} if page else {})})
    assert response.status_code in (200, 400, 404), response.status_code
    if response.status_code != 404:
        assert_page_is_safe(response.content.decode())
    if response.status_code == 400:
        assert "at most 200 characters" in page_text(response)

"""What only PostgreSQL's search does: ranking, the stored vector, the indexes.

Skipped on SQLite outside CI (tests/support/missing.py); CI runs on PostgreSQL.
Content changes run inside ``committed()`` (test_search.py explains why).
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from comparisons import search
from comparisons.models import Comparison
from tests.comparisons.test_search import result_slugs, results_for
from tests.factories import make_comparison, make_factor, make_framework
from tests.support.missing import require_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql():
    require_postgresql(connection)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def committed_():
        return django_capture_on_commit_callbacks(execute=True)

    return committed_


def lexemes(comparison):
    """The words of a comparison's stored vector, without positions or weights."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_to_string(tsvector_to_array(search_vector), ' ') "
            "FROM comparisons_comparison WHERE id = %s",
            [comparison.pk],
        )
        (words,) = cursor.fetchone()
    return set((words or "").split())


class TestRanking:
    def test_title_before_factor_before_assessment(self, client, committed):
        with committed():
            in_assessment = make_comparison(title="Gamma vs Delta")
            factor = make_factor(in_assessment, name="Speed")
            assessment = factor.assessments.first()
            assessment.text = "Written by a rustacean"
            assessment.save()
            in_factor = make_comparison(title="Epsilon vs Zeta")
            make_factor(in_factor, name="Rustacean appeal")
            in_title = make_comparison(title="Rustacean tools: Alpha vs Beta")
        assert result_slugs(results_for(client, "rustacean")) == [
            in_title.slug,
            in_factor.slug,
            in_assessment.slug,
        ]

    def test_more_of_the_words_rank_higher(self, client, committed):
        with committed():
            one = make_comparison(title="Kafka vs Pulsar")
            both = make_comparison(title="Kafka vs Pulsar for streaming")
        assert result_slugs(results_for(client, "kafka streaming")) == [both.slug]
        assert result_slugs(results_for(client, "kafka or streaming"))[0] == both.slug
        assert set(result_slugs(results_for(client, "kafka or streaming"))) == {one.slug, both.slug}

    def test_websearch_syntax(self, client, committed):
        with committed():
            plain = make_comparison(title="Vite vs Webpack")
            with_rollup = make_comparison(title="Vite vs Rollup")
        assert result_slugs(results_for(client, "vite -rollup")) == [plain.slug]
        assert result_slugs(results_for(client, '"vite vs rollup"')) == [with_rollup.slug]

    def test_stemming(self, client, committed):
        with committed():
            comparison = make_comparison(title="Deploying models at the edge")
        assert result_slugs(results_for(client, "deployment")) == [comparison.slug]
        assert "<mark>Deploying</mark>" in results_for(client, "deploy").content.decode()


class TestTypos:
    def test_typos_in_framework_names(self, client, committed):
        with committed():
            pytorch, tensorflow = make_framework("PyTorch"), make_framework("TensorFlow")
            comparison = make_comparison([pytorch, tensorflow], title="PyTorch vs TensorFlow")
            make_comparison(title="Unrelated vs Other")
        for query in ["pytroch", "pytorh", "tensor flow", "tensorflw", "Tensor-Flow"]:
            assert result_slugs(results_for(client, query)) == [comparison.slug], query

    def test_a_framework_found_by_its_misspelt_name_is_listed(self, client, committed):
        with committed():
            pytorch = make_framework("PyTorch", description="Tensors and autograd.")
            make_comparison([pytorch, make_framework("JAX")], title="PyTorch vs JAX")
        response = results_for(client, "pytroch")
        assert [hit.framework.name for hit in response.context["results"].frameworks] == ["PyTorch"]

    def test_a_typo_in_a_title_word(self, client, committed):
        with committed():
            comparison = make_comparison(title="Kubernetes vs Nomad")
        assert result_slugs(results_for(client, "kubernetse")) == [comparison.slug]


class TestStoredVector:
    def test_holds_the_whole_page(self, committed):
        with committed():
            framework = make_framework("Axum", description="An ergonomic web framework.")
            comparison = make_comparison(
                [framework, make_framework("Actix")],
                title="Axum vs Actix",
                subtitle="Rust web servers",
                quick_verdict="Pick **Axum** for tower middleware.",
            )
            factor = make_factor(comparison, name="Ecosystem")
            assessment = factor.assessments.first()
            assessment.text = "Tokio native"
            assessment.save()
        assert {
            "axum",
            "actix",
            "rust",
            "server",
            "tower",
            "middlewar",
            "ergonom",
            "ecosystem",
            "tokio",
            "nativ",
        } <= lexemes(comparison)

    def test_follows_edits_and_deletes_of_child_rows(self, committed):
        with committed():
            comparison = make_comparison(factors=1)
        factor = comparison.factors.get()
        with committed():
            factor.name = "Latency"
            factor.save()
        assert "latenc" in lexemes(comparison)
        assessment = factor.assessments.first()
        with committed():
            assessment.text = "Microsecond scheduling"
            assessment.save()
        assert "microsecond" in lexemes(comparison)
        with committed():
            assessment.delete()
        assert "microsecond" not in lexemes(comparison)
        with committed():
            factor.delete()
        assert "latenc" not in lexemes(comparison)

    def test_one_update_for_a_whole_transaction(self, committed, django_assert_num_queries):
        comparison = make_comparison(factors=2)
        factors = list(comparison.factors.all())
        # Two factor saves, then after the commit the comparisons they touch and one
        # UPDATE of their vectors.
        with django_assert_num_queries(4), committed():
            for factor in factors:
                factor.name = f"{factor.name} Renamed"
                factor.save()
        assert "renam" in lexemes(comparison)

    def test_saves_that_touch_no_words_leave_it_alone(self, committed, django_assert_num_queries):
        with committed():
            comparison = make_comparison(published=False, factors=1, meta_description="x")
        with django_assert_num_queries(1), committed():
            comparison.mark_reviewed(by=None)

    def test_publishing_shows_and_unpublishing_hides(self, client, committed):
        with committed():
            comparison = make_comparison(title="Deno vs Bun", published=False, factors=1)
        assert result_slugs(results_for(client, "deno")) == []
        with committed():
            comparison.publish()
        assert result_slugs(results_for(client, "deno")) == [comparison.slug]
        with committed():
            comparison.unpublish()
        assert result_slugs(results_for(client, "deno")) == []

    def test_rebuild_command_and_bench_data(self, committed):
        with committed():
            comparison = make_comparison(title="Rebuilt vs Fresh")
        Comparison.objects.update(search_vector=None)
        call_command("rebuild_search_index", verbosity=0)
        assert "rebuilt" in lexemes(comparison)

        call_command("generate_bench_data", "--comparisons=2", verbosity=0)
        bench = Comparison.objects.get(slug="bench-00002")
        assert "benchmark" in lexemes(bench)


def plan(queryset, *, ordered=False):
    """EXPLAIN of ``queryset`` with sequential scans priced out, as on a large catalogue.

    ``ordered``: for a query whose order an index provides, price out sorting
    instead of plain index scans (sorting a small table costs next to nothing)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if ordered:
            cursor.execute("SET LOCAL enable_sort = off")
        else:
            # Nor a full scan of a primary key index with a filter, which a small
            # table favours.
            cursor.execute("SET LOCAL enable_indexscan = off")
        # Nor probing each row of a tiny table in a loop, rather than asking the index.
        cursor.execute("SET LOCAL enable_nestloop = off")
    return queryset.explain()


class TestIndexes:
    """The queries use the indexes of migrations 0011 and 0013 (enable_seqscan off stands
    in for 10,000 comparisons; the README quotes a plan from the bench data)."""

    @pytest.fixture(autouse=True)
    def catalogue(self, committed):
        with committed():
            frameworks = [make_framework("PyTorch"), make_framework("TensorFlow")]
            for _ in range(3):
                make_comparison(frameworks, factors=2)

    def test_words_are_ranked_off_the_stored_vector_index(self):
        """A page of results comes out of the RUM index best first: no ranking of
        every match, no sort."""
        backend = search._PostgreSQL(search.parse_query("deep learning"))
        explained = plan(backend.comparisons()[: search.PAGE_SIZE], ordered=True)
        assert "Index Scan using comparison_search_rum" in explained
        assert "Order By: (search_vector <=> " in explained
        assert "Sort" not in explained

    def test_a_typo_union_still_matches_words_by_the_index(self):
        backend = search._PostgreSQL(search.parse_query("pytroch"))
        assert "Bitmap Index Scan on comparison_search_rum" in plan(backend.comparisons())

    def test_typos_use_the_trigram_indexes(self):
        backend = search._PostgreSQL(search.parse_query("pytroch"))
        # The frameworks named like the typo are read by the trigram index first.
        assert "Bitmap Index Scan on framework_name_trgm" in plan(backend.close_frameworks())
        # Titles that look alike, tried when nothing else matched.
        assert "Bitmap Index Scan on comparison_title_trgm" in plan(
            backend.comparisons(looser=True)
        )

    def test_frameworks_use_their_word_index(self):
        """Those named like a word come from close_frameworks(), by the trigram index
        (test_typos_use_the_trigram_indexes), read once for frameworks and comparisons."""
        backend = search._PostgreSQL(search.parse_query("learning"))
        assert "Bitmap Index Scan on framework_words" in plan(backend.framework_matches())


def test_search_page_answers_hostile_text_on_postgresql(client, committed):
    with committed():
        make_comparison(title="PyTorch vs JAX")
    for query in ["'", '"', "(", "a & | b", "!!", "pytorch:*", "<->", "\\", "%_", "a\x00b"]:
        response = client.get(reverse("comparisons:search"), {"q": query})
        assert response.status_code == 200, query

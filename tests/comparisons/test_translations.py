"""Content in German: what a German reader sees of each field, the policy for a
translation not yet published, outdated translations in the admin, and the same
queries per page in both languages."""

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, translate_url
from django.utils import translation
from modeltranslation.manager import MultilingualQuerySet

from comparisons.models import Comparison, Statistic
from comparisons.translation import outdated_fields, record_sources
from tests.factories import make_comparison, make_framework, make_statistic
from tests.support.admin_forms import change_form_data, change_url

pytestmark = pytest.mark.django_db

NOTE = "Not yet translated"
# The note as German pages say it: the interface around the passage is German.
GERMAN_NOTE = "Noch nicht übersetzt"


def german(client, url):
    """The German edition of the page at ``url`` (its /de/ address), never from a cache."""
    cache.clear()
    url = translate_url(url, "de")
    assert url.startswith("/de/"), url
    response = client.get(url)
    cache.clear()
    assert response.status_code == 200, url
    return response.content.decode()


def fallback_passages(html):
    """The texts shown in English on a German page, each marked lang="en"."""
    return re.findall(r'<span lang="en" class="untranslated">(.*?)</span>', html)


@pytest.fixture
def translated_page():
    comparison = make_comparison(
        [make_framework("PyTorch"), make_framework("TensorFlow")],
        factors=2,
        title="PyTorch vs TensorFlow",
        title_de="PyTorch oder TensorFlow",
        quick_verdict="PyTorch for research.",
        quick_verdict_de="PyTorch für die Forschung.",
        translations_published=["de"],
    )
    factor = comparison.factors.first()
    factor.name_de = "Entwicklungskomfort"
    factor.save()
    statistic = make_statistic(comparison, description_de="der befragten Teams nutzen es")
    # As the admin does when an editor writes the translations.
    for row in [comparison, factor, statistic]:
        record_sources(row, "de")
        row.save()
    return comparison


class TestGermanPage:
    def test_translated_fields_in_german_without_a_note(self, client, translated_page):
        html = german(client, translated_page.get_absolute_url())
        assert "<h1>PyTorch oder TensorFlow</h1>" in html
        assert "PyTorch für die Forschung." in html
        assert ">Entwicklungskomfort</th>" in html
        assert "der befragten Teams nutzen es" in html
        assert "PyTorch vs TensorFlow</span>" not in html

    def test_a_field_without_translation_shows_english_marked_as_such(
        self, client, translated_page
    ):
        html = german(client, translated_page.get_absolute_url())
        passages = fallback_passages(html)
        # The second factor and the assessments have no German text; the source name neither.
        assert "Factor 2" in passages
        assert "PyTorch is fine." in passages
        assert "Example Survey" in passages
        assert f"({GERMAN_NOTE})" in html
        # Never a key, never empty.
        assert "comparisonData." not in html
        assert "<td></td>" not in html

    def test_english_page_is_unchanged(self, client, translated_page):
        html = client.get(translated_page.get_absolute_url()).content.decode()
        assert "<h1>PyTorch vs TensorFlow</h1>" in html
        assert NOTE not in html and GERMAN_NOTE not in html
        assert 'lang="en" class="untranslated"' not in html

    def test_the_rich_text_fallback_is_a_marked_block(self, client, translated_page):
        Comparison.objects.filter(pk=translated_page.pk).update(quick_verdict_de="")
        html = german(client, translated_page.get_absolute_url())
        assert re.search(
            r'<div lang="en" class="untranslated"><p>PyTorch for research.</p>\s*</div>', html
        )


class TestUnpublishedTranslation:
    """Policy (README): a comparison whose German translation is not published shows
    in English with the note, and stays in the German listings."""

    def test_shows_in_english_with_the_note(self, client, translated_page):
        Comparison.objects.filter(pk=translated_page.pk).update(translations_published=[])
        html = german(client, translated_page.get_absolute_url())
        assert "PyTorch oder TensorFlow" not in html
        assert "PyTorch vs TensorFlow" in fallback_passages(html)
        assert f"({GERMAN_NOTE})" in html

    def test_stays_in_the_german_listings_in_english(self, client, translated_page):
        Comparison.objects.filter(pk=translated_page.pk).update(translations_published=[])
        html = german(client, reverse("comparisons:home"))
        assert "PyTorch vs TensorFlow" in fallback_passages(html)
        html = german(client, reverse("comparisons:category", kwargs={"slug": "technology"}))
        assert "PyTorch vs TensorFlow" in fallback_passages(html)

    def test_published_it_shows_in_german_in_the_listings(self, client, translated_page):
        html = german(client, reverse("comparisons:home"))
        assert ">PyTorch oder TensorFlow</a>" in html


class TestSearchInGerman:
    """On PostgreSQL the stored vectors hold both languages' words; on SQLite the
    fallback looks in both languages' columns."""

    def test_german_words_find_the_page_and_english_ones_still_do(self, client, committed):
        with committed():
            comparison = make_comparison(
                title="Kafka vs Pulsar",
                title_de="Kafka oder Pulsar",
                quick_verdict="Kafka for throughput.",
                quick_verdict_de="Kafka für hohen Durchsatz.",
                translations_published=["de"],
            )
        html = german(client, reverse("comparisons:search") + "?q=Durchsatz")
        assert "Kafka oder Pulsar" in html
        html = client.get(reverse("comparisons:search") + "?q=throughput").content.decode()
        assert "Kafka vs Pulsar" in html
        assert comparison.pk


class TestDemoInGerman:
    def test_load_demo_loads_the_seed_in_german(self, client):
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow")
        html = german(client, comparison.get_absolute_url())
        assert "<h1>PyTorch oder TensorFlow: Welches Deep-Learning-Framework 2026?</h1>" in html
        for text in [
            "Entwicklungskomfort",
            "Führend in der Wissenschaft, über 80 % der neuen Veröffentlichungen",
            "TFLite ist der Industriestandard für Mobil- und Edge-Geräte",
            "Schnelles Prototyping",
            "In der Forschung und beim Entwicklungskomfort liegt PyTorch vorn.",
        ]:
            assert text in html, text
        # Everything the seed page shows is translated: no English stands in.
        assert fallback_passages(html) == []

    def test_load_demo_adds_german_to_a_demo_loaded_before(self, client):
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        Comparison.objects.update(title_de="", translations_published=[])
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow")
        assert comparison.title_de.startswith("PyTorch oder TensorFlow")
        assert comparison.translations_published == ["de"]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the search vectors) as a real commit would."""

    def committed_():
        return django_capture_on_commit_callbacks(execute=True)

    return committed_


class TestAdmin:
    def test_completeness_per_language_in_the_list(self, admin_client, translated_page):
        page = admin_client.get(reverse("admin:comparisons_comparison_changelist"))
        html = page.content.decode()
        # title, verdict, one factor name, one statistic description of the texts written
        assert re.search(r"de: \d+%", html)
        make_comparison(title="Only English")
        html = admin_client.get(reverse("admin:comparisons_comparison_changelist")).content
        assert "de: 0%, not published" in html.decode()

    def test_an_english_change_flags_the_translation_outdated_until_confirmed(
        self, admin_client, translated_page
    ):
        comparison = translated_page
        data = change_form_data(
            comparison,
            title_de="PyTorch oder TensorFlow",
            quick_verdict_de="PyTorch für die Forschung.",
            translations_published=["de"],
        )
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 302, response.context["errors"]
        comparison.refresh_from_db()
        assert outdated_fields(comparison, "de") == []

        data["title"] = "PyTorch vs TensorFlow in 2027"
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 302, response.context["errors"]
        comparison.refresh_from_db()
        assert outdated_fields(comparison, "de") == ["title"]
        html = admin_client.get(change_url(comparison)).content.decode()
        assert "Outdated (de): Comparison, title" in html
        changelist = admin_client.get(reverse("admin:comparisons_comparison_changelist"))
        assert "1 outdated" in changelist.content.decode()

        data["confirm_translations"] = "on"
        response = admin_client.post(change_url(comparison), data)
        assert response.status_code == 302, response.context["errors"]
        comparison.refresh_from_db()
        assert outdated_fields(comparison, "de") == []
        assert "Outdated (de)" not in admin_client.get(change_url(comparison)).content.decode()

    def test_a_german_statistic_description_keeps_the_sourcing_rule(self, translated_page):
        # Sourced in English, it is complete in every language; German falls back.
        with translation.override("de"):
            assert Statistic.objects.complete().filter(comparison=translated_page).count() == 1


def queries(client, url, language):
    """How many queries the page at ``url`` makes in ``language`` (its address there)."""
    cache.clear()
    url = translate_url(url, language)
    client.get(url)  # the page cache's own bookkeeping, done once per edit
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    cache.clear()
    assert response.status_code == 200, url
    assert response.headers["Content-Language"] == language, url
    return len(captured)


class TestQueriesPerLanguage:
    """Each page makes the same queries in German as in English: translations are
    columns of the rows the page reads anyway."""

    @pytest.mark.parametrize(
        "url",
        [
            lambda page: page.get_absolute_url(),
            lambda page: reverse("comparisons:home"),
            lambda page: reverse("comparisons:category", kwargs={"slug": "technology"}),
            lambda page: reverse("comparisons:framework", kwargs={"slug": "pytorch"}),
            lambda page: reverse("comparisons:search") + "?q=pytorch",
            lambda page: reverse("comparisons:search") + "?q=fine",
        ],
        ids=["comparison", "home", "hub", "framework", "search", "search-in-assessments"],
    )
    def test_the_same_queries_in_both_languages(self, client, translated_page, url):
        make_comparison([make_framework("JAX"), *translated_page.frameworks.all()], factors=3)
        target = url(translated_page)
        english = queries(client, target, "en")
        assert queries(client, target, "de") == english


class TestQuerySets:
    def test_a_translated_models_querysets_share_one_class_and_stay_multilingual(self):
        """modeltranslation's queryset class for a model's own QuerySet is made once
        per process (comparisons/translation.py), not on every query."""
        assert type(Comparison.objects.all()) is type(Comparison.objects.published())
        assert issubclass(type(Comparison.objects.all()), MultilingualQuerySet)
        make_comparison(title="Erste vs Zweite")
        with translation.override("de"):
            # "title" still reads the page language's column, falling back to English.
            assert Comparison.objects.filter(title_en="Erste vs Zweite").get().title == (
                "Erste vs Zweite"
            )
            assert Comparison.objects.published().order_by("title").count() == 1

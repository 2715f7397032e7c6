"""The site in two languages: addresses, the switcher, hreflang, the first visit's
redirect (compare_site/languages.py), the page cache per language, and the
visitor's language kept with their request for every email."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import trans_real
from modeltranslation.fields import TranslationField

from compare_site.translations import LOCALE_DIR
from comparisons.admin_history import refused_message
from comparisons.history import SECTIONS, Snapshot
from comparisons.models import Comparison, PublicationProblem
from consultations import services
from consultations.models import ConsultationRequest, OutgoingEmail, format_local
from tests.clock import FIXED_NOW
from tests.consultations.helpers import booking_data, fixed_booking
from tests.factories import make_comparison, make_consultation, make_framework, make_staff
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

GERMAN = "de-DE,de;q=0.9,en;q=0.5"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def comparison():
    return make_comparison(title="PyTorch vs TensorFlow", slug="pytorch-vs-tensorflow", factors=2)


def html_lang(response):
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


class TestAddresses:
    def test_english_keeps_todays_addresses(self, client, comparison):
        response = client.get("/compare/pytorch-vs-tensorflow/")
        assert response.status_code == 200
        assert html_lang(response) == "en"
        assert "Detailed Comparison" in page_text(response)

    def test_german_lives_under_de(self, client, comparison):
        response = client.get("/de/compare/pytorch-vs-tensorflow/")
        assert response.status_code == 200
        assert html_lang(response) == "de"
        text = page_text(response)
        assert "Ausführlicher Vergleich" in text and "Wichtige Zahlen" in text
        assert "Detailed Comparison" not in text
        assert response["Content-Language"] == "de"

    @pytest.mark.parametrize(
        ("path", "german"),
        [
            ("/de/", "Zwischen Technologien entscheiden"),
            ("/de/methodology/", "Wie wir Technologien vergleichen"),
            ("/de/consultations/book/", "Kostenlose 30-minütige Beratung buchen"),
            ("/de/consultations/privacy/", "Datenschutzhinweis zu Beratungen"),
            ("/de/search/?q=torch", "Ergebnisse für „torch“"),
        ],
    )
    def test_german_pages_speak_german(self, client, comparison, path, german):
        response = client.get(path)
        assert html_lang(response) == "de"
        assert german in page_text(response)

    def test_a_german_form_error_is_german(self, client):
        response = client.post("/de/consultations/book/", booking_data(name="", email="x"))
        text = page_text(response)
        assert "Bitte prüfen Sie die 2 unten markierten Felder." in text
        assert "Alle übrigen Eingaben bleiben erhalten." in text

    def test_the_german_404_page_is_german(self, client):
        response = client.get("/de/no-such-page/")
        assert response.status_code == 404
        assert "Diese Seite haben wir nicht gefunden" in page_text(response)

    def test_the_admin_and_the_sitemap_stay_where_they_are(self, client):
        assert client.get("/de/admin/").status_code == 404
        assert client.get("/de/sitemap.xml").status_code == 404
        assert client.get("/sitemap.xml").status_code == 200


class TestSwitcher:
    def test_every_page_offers_the_other_language_for_the_same_page(self, client, comparison):
        body = client.get("/compare/pytorch-vs-tensorflow/").content.decode()
        form = re.search(r'<form class="language-switcher".*?</form>', body, re.S)[0]
        assert 'action="/language/"' in form and 'method="post"' in form
        assert 'name="next" value="/compare/pytorch-vs-tensorflow/"' in form
        assert 'name="language" value="de" lang="de">Deutsch</button>' in form
        assert 'aria-current="true">English</span>' in form

    def test_switching_to_german_keeps_the_page_and_the_readers_weights(self, client, comparison):
        response = client.post(
            "/language/",
            {"language": "de", "next": "/compare/pytorch-vs-tensorflow/?w=factor-1:critical"},
        )
        assert response.status_code == 302
        assert response["Location"] == "/de/compare/pytorch-vs-tensorflow/?w=factor-1:critical"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"

    def test_switching_back_to_english(self, client, comparison):
        response = client.post(
            "/language/", {"language": "en", "next": "/de/compare/pytorch-vs-tensorflow/"}
        )
        assert response["Location"] == "/compare/pytorch-vs-tensorflow/"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        # The choice holds against the browser's preference from then on.
        page = client.get("/compare/pytorch-vs-tensorflow/", HTTP_ACCEPT_LANGUAGE=GERMAN)
        assert page.status_code == 200 and html_lang(page) == "en"

    def test_the_switcher_keeps_only_the_parameters_a_page_is_about(self, client, comparison):
        body = client.get("/compare/pytorch-vs-tensorflow/?w=x:important&utm=evil").content
        assert b'name="next" value="/compare/pytorch-vs-tensorflow/?w=x%3Aimportant"' in body

    @pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x"])
    def test_a_foreign_next_lands_at_home(self, client, next_url):
        response = client.post("/language/", {"language": "de", "next": next_url})
        assert response["Location"] == "/de/"

    def test_an_unknown_language_changes_nothing(self, client):
        response = client.post("/language/", {"language": "xx", "next": "/methodology/"})
        assert response["Location"] == "/methodology/"
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies

    def test_switching_is_a_post(self, client):
        assert client.get("/language/?language=de").status_code == 405


class TestHreflang:
    def test_head_names_both_languages_and_x_default(self, client, comparison):
        body = client.get("/de/compare/pytorch-vs-tensorflow/?w=x:important").content.decode()
        english = f"{settings.SITE_URL}/compare/pytorch-vs-tensorflow/"
        german = f"{settings.SITE_URL}/de/compare/pytorch-vs-tensorflow/"
        assert f'<link rel="alternate" hreflang="en" href="{english}">' in body
        assert f'<link rel="alternate" hreflang="de" href="{german}">' in body
        assert f'<link rel="alternate" hreflang="x-default" href="{english}">' in body

    def test_the_sitemap_lists_both_languages_with_alternates(self, client, comparison):
        body = client.get("/sitemap.xml").content.decode()
        english = f"{settings.SITE_URL}/compare/pytorch-vs-tensorflow/"
        german = f"{settings.SITE_URL}/de/compare/pytorch-vs-tensorflow/"
        assert f"<loc>{english}</loc>" in body and f"<loc>{german}</loc>" in body
        assert f'hreflang="de" href="{german}"' in body
        assert f'hreflang="x-default" href="{english}"' in body


class TestFirstVisit:
    def test_accept_language_sends_a_first_visit_to_german_once(self, comparison):
        browser = Client()
        response = browser.get("/compare/pytorch-vs-tensorflow/", HTTP_ACCEPT_LANGUAGE=GERMAN)
        assert response.status_code == 302
        assert response["Location"] == "/de/compare/pytorch-vs-tensorflow/"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
        assert "Accept-Language" in response["Vary"] and "private" in response["Cache-Control"]

    def test_the_redirect_cannot_loop(self, comparison):
        browser = Client()
        response = browser.get("/", HTTP_ACCEPT_LANGUAGE=GERMAN, follow=True)
        assert [url for url, _status in response.redirect_chain] == ["/de/"]
        assert html_lang(response) == "de"

    def test_a_german_address_never_redirects(self, comparison):
        response = Client().get("/de/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
        assert response.status_code == 200 and html_lang(response) == "de"

    def test_english_readers_stay(self, comparison):
        response = Client().get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9,de;q=0.8")
        assert response.status_code == 200
        assert "Accept-Language" in response["Vary"]

    def test_a_language_we_lack_falls_through_to_the_next_we_have(self, comparison):
        response = Client().get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,de;q=0.5")
        assert response["Location"] == "/de/"

    def test_crawlers_read_the_canonical_english_address(self, comparison):
        response = Client().get(
            "/compare/pytorch-vs-tensorflow/",
            HTTP_ACCEPT_LANGUAGE=GERMAN,
            HTTP_USER_AGENT=GOOGLEBOT,
        )
        assert response.status_code == 200 and html_lang(response) == "en"
        bingbot = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
        response = Client().get("/", HTTP_ACCEPT_LANGUAGE=GERMAN, HTTP_USER_AGENT=bingbot)
        assert response.status_code == 200

    def test_the_choice_is_remembered_whatever_the_browser_says(self, comparison):
        browser = Client()
        browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
        response = browser.get("/methodology/", HTTP_ACCEPT_LANGUAGE="en")
        assert response["Location"] == "/de/methodology/"
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies  # set once, not again

    def test_only_reads_are_redirected_and_only_to_pages_that_exist(self):
        browser = Client()
        posted = browser.post("/consultations/book/", booking_data(), HTTP_ACCEPT_LANGUAGE=GERMAN)
        assert not posted.get("Location", "").startswith("/de/")
        assert ConsultationRequest.objects.get().language == "en"
        assert browser.get("/admin/login/", HTTP_ACCEPT_LANGUAGE=GERMAN).status_code == 200
        assert browser.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=GERMAN).status_code == 404


class TestPageCache:
    def test_each_language_has_its_own_cached_page_and_etag(self, client, comparison):
        english = client.get("/compare/pytorch-vs-tensorflow/")
        german = client.get("/de/compare/pytorch-vs-tensorflow/")
        assert english["ETag"] != german["ETag"]
        # Served from the cache the second time, each in its own language.
        again = client.get("/de/compare/pytorch-vs-tensorflow/")
        assert again["ETag"] == german["ETag"] and html_lang(again) == "de"
        assert html_lang(client.get("/compare/pytorch-vs-tensorflow/")) == "en"

    def test_a_german_repeat_visit_costs_no_query(
        self, client, comparison, django_assert_num_queries
    ):
        client.get("/de/compare/pytorch-vs-tensorflow/")
        with django_assert_num_queries(0):
            response = client.get("/de/compare/pytorch-vs-tensorflow/")
        assert html_lang(response) == "de"

    def test_an_english_etag_does_not_answer_for_the_german_page(self, client, comparison):
        english = client.get("/compare/pytorch-vs-tensorflow/")
        response = client.get(
            "/de/compare/pytorch-vs-tensorflow/", HTTP_IF_NONE_MATCH=english["ETag"]
        )
        assert response.status_code == 200 and html_lang(response) == "de"

    def test_a_cached_english_page_never_answers_a_first_visit_in_german(self, comparison):
        Client().get("/compare/pytorch-vs-tensorflow/")  # cached now
        response = Client().get("/compare/pytorch-vs-tensorflow/", HTTP_ACCEPT_LANGUAGE=GERMAN)
        assert response.status_code == 302


class TestVisitorsLanguage:
    @pytest.fixture
    def booked_in_german(self, time_machine, triager):
        time_machine.move_to(FIXED_NOW, tick=False)
        browser = Client()
        response = browser.post("/de/consultations/book/", fixed_booking(timezone="Europe/Berlin"))
        assert response.status_code == 302
        assert response["Location"].startswith("/de/consultations/requests/")
        return browser, response

    def test_the_request_records_the_language(self, booked_in_german):
        assert ConsultationRequest.objects.get().language == "de"

    def test_an_english_booking_records_english(self, client, time_machine):
        time_machine.move_to(FIXED_NOW, tick=False)
        client.post("/consultations/book/", fixed_booking())
        assert ConsultationRequest.objects.get().language == "en"

    def test_the_confirmation_page_is_german(self, booked_in_german):
        browser, response = booked_in_german
        text = page_text(browser.get(response["Location"]))
        assert "Danke, Ihre Anfrage ist bei uns" in text
        # Received Tuesday 24 November 09:00 UTC: 24 hours later, in Berlin.
        assert "Wir antworten bis Mittwoch, 25. November 2026, 10:00 MEZ" in text

    def test_the_confirmation_email_is_german_and_the_staffs_english(
        self, booked_in_german, triager
    ):
        call_command("deliver_email", "--once", stdout=io.StringIO())
        [visitor] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
        assert visitor.subject.startswith("Ihre Anfrage für eine kostenlose Beratung [")
        assert "Guten Tag Ada Lovelace," in visitor.body
        assert "Mittwoch, 25. November 2026, 10:00 MEZ" in visitor.body
        assert f"{settings.SITE_URL}/de/consultations/status/" in visitor.body
        [staff] = [m for m in mail.outbox if m.to == [triager.email]]
        assert staff.subject.startswith("New consultation request")

    def test_an_apology_sent_by_the_worker_is_german(self, booked_in_german, time_machine):
        request = ConsultationRequest.objects.get()
        time_machine.move_to(request.respond_by + timedelta(minutes=1), tick=False)
        with translation.override("en"):  # the worker's language
            services.warn_due_requests()
        apology = OutgoingEmail.objects.filter(request=request, to=request.email).latest("pk")
        assert "Entschuldigung, wir sind spät dran" in apology.subject
        assert "Mittwoch, 25. November 2026, 10:00 MEZ" in apology.body

    def test_later_emails_use_the_requests_language(self, booked_in_german):
        request = ConsultationRequest.objects.get()
        staff = make_staff("stella", first_name="Stella")
        with translation.override("en"):  # the admin's language
            services.reply_to_visitor(consultation=request, text="Gern geschehen.", by=staff)
        reply = OutgoingEmail.objects.filter(request=request).latest("pk")
        assert reply.subject.startswith("Re: Ihre Anfrage für eine kostenlose Beratung")
        assert "Guten Tag Ada Lovelace," in reply.body

    def test_the_triage_list_shows_and_filters_the_language(self, booked_in_german, admin_client):
        response = admin_client.get("/admin/consultations/consultationrequest/?language__exact=de")
        assert response.status_code == 200
        text = page_text(response)
        assert "Deutsch" in text and ConsultationRequest.objects.get().reference in text


class TestAdminText:
    """Our admin's messages and templates are marked for translation, though the
    admin itself is always English (its address has no /de/)."""

    def test_an_admin_message_and_template_read_german_when_german_is_active(self, comparison):
        problems = [
            PublicationProblem("It has no quick verdict.", field="quick_verdict"),
            PublicationProblem("It has no frameworks.", field="participants"),
        ]
        with translation.override("de"):
            one = refused_message(comparison, problems[:1], saved=True)
            two = refused_message(comparison, problems)
            trail = render_to_string(
                "admin/consultations/consultationrequest/audit_trail.html", {"events": []}
            )
        assert "wurde als Entwurf gespeichert, nicht veröffentlicht" in one
        assert "Beheben Sie eine Sache und veröffentlichen Sie erneut" in one
        assert "„PyTorch vs TensorFlow“ wurde nicht veröffentlicht. Beheben Sie 2 Dinge" in two
        assert trail.strip() == "Noch nichts."

    def german_admin_page(self, url, user):
        """``url`` of our admin as a staff member reads it with German active: the
        view called directly, as the admin's address itself stays English."""
        request = RequestFactory().get(url)
        request.user = user
        match = resolve(url)
        with translation.override("de"):
            response = match.func(request, *match.args, **match.kwargs)
            return page_text(response.render())

    def test_comparison_columns_fieldsets_and_publication_problems_read_german(self):
        editor = make_staff("erika", is_superuser=True)
        draft = make_comparison(
            [make_framework("Solo")], title="Entwurfsseite", published=False, quick_verdict=""
        )
        make_comparison(title="Alte Seite", last_reviewed_at=timezone.now() - timedelta(days=400))
        text = self.german_admin_page("/admin/comparisons/comparison/", editor)
        assert "Prüfung nötig: Prüfung überfällig" in text
        assert "Entwurf" in text and "de: 0 %, nicht veröffentlicht" in text
        assert "Needs review" not in text and "not published" not in text
        form = self.german_admin_page(f"/admin/comparisons/comparison/{draft.pk}/change/", editor)
        assert "Veröffentlichung" in form and "Daten und Adressen" in form
        assert "Nicht übersetzt (de): Vergleich, title" in form
        with translation.override("de"):
            problems = [str(problem) for problem in draft.publication_problems()]
        assert "Er vergleicht weniger als zwei Frameworks: Fügen Sie mindestens zwei hinzu." in (
            problems
        )
        assert "Er hat kein Kurzfazit." in problems

    def test_history_labels_read_german(self, comparison):
        with translation.override("de"):
            rows = Snapshot.of_page(comparison).rows()
            page_parts = [label for label, _value in rows[0].parts.values()]
            factor = next(row for row in rows if row.key[0] == "factor")
            sections = [str(title) for title in SECTIONS.values()]
            label = factor.label
        assert page_parts[:3] == ["Titel", "Adresse", "Untertitel"]
        assert label.startswith("Faktor „")
        assert sections == ["Seite", "Frameworks", "Faktoren", "Zahlen"]

    def test_the_triage_form_reads_german(self, admin_user):
        request = make_consultation()
        text = self.german_admin_page(
            f"/admin/consultations/consultationrequest/{request.pk}/change/", admin_user
        )
        assert "Vom Besucher" in text and "Protokoll" in text and "Weiteres" in text
        assert "Interne Notiz hinzufügen" in text
        assert "Nur für das Team: Der Besucher sieht Notizen nie." in text
        assert "From the visitor" not in text and "Add an internal note" not in text

    def test_the_admin_itself_stays_english(self, admin_client):
        admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
        response = admin_client.get(
            "/admin/consultations/consultationrequest/", HTTP_ACCEPT_LANGUAGE=GERMAN
        )
        text = page_text(response)
        assert "Your timezone" in text and "Assign to me" in text
        assert "Ihre Zeitzone" not in text and "Mir zuweisen" not in text


def model_texts(model):
    """Every text our admin, forms and messages take from ``model``: its names, each
    field's verbose name and help text, and each choice's label, with where it is."""
    meta = model._meta
    yield f"{meta.label} verbose_name", meta.original_attrs.get("verbose_name")
    yield f"{meta.label} verbose_name_plural", meta.original_attrs.get("verbose_name_plural")
    for field in meta.get_fields():
        # A language's column (title_de) takes its name from the English field's.
        if field.auto_created or not field.concrete or isinstance(field, TranslationField):
            continue
        where = f"{meta.label}.{field.name}"
        yield f"{where} verbose_name", field.verbose_name
        if field.help_text:
            yield f"{where} help_text", field.help_text
        # Language names are written in their own language (settings.LANGUAGES).
        if field.choices and field.choices != settings.LANGUAGES:
            for value, label in field.flatchoices:
                yield f"{where} choice {value!r}", label


def has_german(text):
    """Whether ``text`` reads German with German active: it differs from the English,
    or it is the same word in both ("Status") and the German catalogue says so."""
    with translation.override("en"):
        english = str(text)
    with translation.override("de"):
        german = str(text)
    catalogue = trans_real.translation("de")._catalog
    translated = {
        key.rpartition("\x04")[2]
        for key, value in catalogue.items()
        if isinstance(key, str) and value
    }
    return german != english or english in translated


class TestModelText:
    """Our models' names, field labels, help texts and choices are marked for
    translation and have their German (issue 17)."""

    MODELS = [
        *apps.get_app_config("comparisons").get_models(),
        *apps.get_app_config("consultations").get_models(),
    ]

    def test_every_model_text_is_translatable_and_has_its_german(self):
        assert len(self.MODELS) > 20
        texts = [item for model in self.MODELS for item in model_texts(model)]
        assert len(texts) > 300
        not_lazy = [where for where, text in texts if not isinstance(text, Promise)]
        assert not_lazy == []
        no_german = [f"{where}: {text}" for where, text in texts if not has_german(text)]
        assert no_german == []

    def test_a_comparisons_status_reads_german(self):
        draft = Comparison(status=Comparison.Status.DRAFT)
        published = Comparison(status=Comparison.Status.PUBLISHED)
        with translation.override("de"):
            assert draft.get_status_display() == "Entwurf"
            assert published.get_status_display() == "Veröffentlicht"
            assert str(Comparison._meta.verbose_name_plural) == "Vergleiche"
        assert draft.get_status_display() == "Draft"

    def test_a_unique_address_error_reads_german(self):
        make_comparison(slug="pytorch-vs-tensorflow")
        with translation.override("de"):
            with pytest.raises(ValidationError) as refused:
                Comparison(title="Noch einer", slug="pytorch-vs-tensorflow").validate_unique()
            assert refused.value.messages == [
                "Vergleich mit diesem Wert für das Feld Kürzel existiert bereits."
            ]

    def test_the_visitors_german_status_page_names_the_status_in_german(self, client):
        consultation = make_consultation(timezone="Europe/Berlin")
        consultation.transition(ConsultationRequest.Status.DECLINED, by=make_staff("tess"))
        with translation.override("de"):
            url = reverse("consultations:status", args=[services.status_token(consultation)])
        assert url.startswith("/de/")
        text = page_text(client.get(url))
        assert "Abgeschlossen. Diese Anfrage ist abgelehnt" in text
        assert "Wir haben Ihre Anfrage erhalten." in text
        assert "Die Anfrage wurde geschlossen (abgelehnt)." in text
        assert "declined" not in text and "We received" not in text


class TestLocalisedDates:
    MOMENT = datetime(2026, 12, 3, 4, 5, tzinfo=UTC)

    def test_german_dates_read_as_germans_write_them(self):
        with translation.override("de"):
            assert str(format_local(self.MOMENT, "Europe/Berlin")) == (
                "Donnerstag, 3. Dezember 2026, 05:05 MEZ"
            )

    def test_english_dates_are_unchanged(self):
        with translation.override("en"):
            assert str(format_local(self.MOMENT, "Europe/Berlin")) == (
                "Thursday 3 December 2026, 05:05 CET"
            )


def test_the_german_catalogue_is_complete():
    """Every interface string has its German, none is a fuzzy guess, and every
    placeholder survives (Babel's checks, as msgfmt --check)."""
    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po").open("rb") as source:
        catalogue = read_po(source, locale="de")
    messages = [message for message in catalogue if message.id]
    assert len(messages) > 400
    untranslated = [m.id for m in messages if not (all(m.string) if m.pluralizable else m.string)]
    assert untranslated == []
    assert [m.id for m in messages if m.fuzzy] == []
    assert [(m.id, errors) for m, errors in catalogue.check() if errors] == []

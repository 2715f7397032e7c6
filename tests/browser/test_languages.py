"""A German reader: the first visit lands in German, the switcher keeps the page,
the booking is in German and so is its confirmation; the German pages pass axe
and the Nu HTML Checker at both widths."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import expect

from comparisons.demo import load_demo_content
from consultations.models import ConsultationRequest

from .booking import VISITOR_TIMEZONE, free_slots

pytestmark = pytest.mark.browser

SEED = "/compare/pytorch-vs-tensorflow/"


@pytest.fixture
def german_reader(open_page, settings):
    settings.CONSULTATION_MIN_FILL_SECONDS = 0
    load_demo_content()
    # A browser set to German sends Accept-Language: de-DE.
    return open_page("mobile", timezone_id=VISITOR_TIMEZONE, locale="de-DE")


def test_a_german_reader_switches_language_on_the_page_and_books_in_german(
    live_server, german_reader
):
    page = german_reader
    page.goto(live_server.url + SEED)
    # The first visit went to the German address, once.
    expect(page).to_have_url(live_server.url + "/de" + SEED)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Ausführlicher Vergleich")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(live_server.url + SEED)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Detailed Comparison")).to_be_visible()
    # The choice holds: the English address is no longer sent to German.
    page.goto(live_server.url + "/methodology/")
    expect(page.get_by_role("heading", level=1)).to_have_text("How we compare technologies")

    page.goto(live_server.url + SEED)
    page.get_by_role("button", name="Deutsch").click()
    expect(page).to_have_url(live_server.url + "/de" + SEED)

    page.get_by_role("link", name=re.compile("^Kostenlose 30-minütige Beratung buchen")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kostenlose 30-minütige Beratung buchen"
    )
    page.get_by_label("Ihr Name").fill("Ada Lovelace")
    page.get_by_label("E-Mail-Adresse").fill("ada@example.com")
    page.get_by_label("Was müssen Sie entscheiden?").fill(
        "PyTorch oder TensorFlow für Mobilgeräte?"
    )
    first, second = free_slots()
    page.get_by_label("Erster Wunschtermin").fill(first)
    page.get_by_label("Zweiter Wunschtermin").fill(second)
    page.get_by_label("Sie dürfen mich zu dieser Beratung per E-Mail kontaktieren").check()
    page.get_by_role("button", name="Kostenlose Beratung anfragen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Danke, Ihre Anfrage ist bei uns")
    consultation = ConsultationRequest.objects.get()
    assert consultation.language == "de"
    with translation.override("de"):
        respond_by = str(consultation.respond_by_local())  # "Donnerstag, 26. November …"
    expect(page.get_by_text("Wir antworten bis")).to_contain_text(respond_by)

    call_command("deliver_email", "--once", stdout=io.StringIO())
    [confirmation] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert confirmation.subject.startswith(
        f"Ihre Anfrage für eine kostenlose Beratung [{consultation.reference}]: Wir antworten bis"
    )
    assert "Guten Tag Ada Lovelace," in confirmation.body
    assert (
        "Danke, dass Sie eine kostenlose 30-minütige Beratung gebucht haben." in confirmation.body
    )
    assert "/de/consultations/status/" in confirmation.body
    assert page.csp_errors == []


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("de-home", "/de/"),
        ("de-comparison", "/de" + SEED),
        ("de-booking", "/de/consultations/book/"),
        ("de-category-hub", "/de/categories/technology/"),
        ("de-framework", "/de/frameworks/pytorch/"),
        ("de-search", "/de/search/?q=pytroch"),
        ("de-picker-none", "/de/compare/?f=PyTorch&f=Keras"),
        ("de-methodology", "/de/methodology/"),
        ("de-not-found", "/de/compare/no-such-page/"),
    ],
)
def test_german_pages_pass_the_checkers(live_server, audit, name, path):
    load_demo_content()
    page = audit(name, lambda page: page.goto(live_server.url + path))
    expect(page.locator("html")).to_have_attribute("lang", "de")

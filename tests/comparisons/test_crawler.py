"""The crawler: every public page in every language, every email and the .ics,
with the demo content, checked for what the seed page got wrong.

It fails on anything that looks like a key (``comparisonData.…``, ``statistics.0``),
an untranslated msgid's ``%(``, template syntax, ``None``, an empty element or
attribute, and a statistic shown without its source, year and link. It walks
the links from the home page and the sitemap, reversed under each language (so
the German walk starts at the German addresses), and prints how many pages and
strings it checked (tests/support/figures.py, and on stdout with -s).
"""

import html
import re
from datetime import UTC, timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone, translation

from comparisons import reports
from comparisons.demo import load_demo_content
from comparisons.models import Comparison
from comparisons.translation import column
from consultations import invitations, services
from consultations.models import ConsultationRequest, OutgoingEmail
from tests.consultations.helpers import booking_data, weekday_slot
from tests.factories import make_consultation, make_statistic
from tests.support.figures import record

pytestmark = pytest.mark.django_db

# Pages of ours that are not public, or that only answer a form.
NOT_CRAWLED = ("/admin/", "/static/", "/consultations/staff/", "/media/")
MAX_PAGES = 400

KEY_LIKE = [
    # A camelCase identifier before a dot: comparisonData.pytorch-vs-tensorflow
    re.compile(r"\b[a-z]+[A-Z][A-Za-z]*\.[A-Za-z0-9_-]"),
    # An index in a dotted path: statistics.0 or statistics.0.description
    re.compile(r"\b[A-Za-z_]{3,}\.\d+(?:\.[A-Za-z_]+|\b(?![.,]?\d))"),
    # Three or more dotted lower-case identifiers: comparison.statistic.description
    re.compile(r"\b[a-z_]{2,}\.[a-z_]{2,}\.[a-z_]{2,}\b(?![./@-])"),
]
TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}")
UNTRANSLATED_PLACEHOLDER = re.compile(r"%\([a-z_]+\)")
NONE = re.compile(r"\bNone\b")
EMPTY_ELEMENT = re.compile(r"<(td|th|dd|dt|p|li|h[1-6]|a|caption|label|title)\b[^>]*>\s*</\1>")
EMPTY_ATTRIBUTE = re.compile(r'\b(alt|title|content|href|aria-label)=""')
ATTRIBUTE = re.compile(r'\b(?:alt|title|content|aria-label|placeholder)="([^"]*)"')
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>")
HREF = re.compile(r'\bhref="([^"]+)"')
LOC = re.compile(r"<loc>([^<]+)</loc>")
STATISTIC = re.compile(r'<li class="statistic[" ].*?</li>', re.S)
SOURCE_LINE = re.compile(r'class="statistic__source">(.*?)</p>', re.S)
SOURCE_LINK = re.compile(r'<a href="https?://[^"]+"[^>]*>(.*?)</a>\s*\((\d{4})\)', re.S)
# Addresses are not keys: www.tensorflow.org, hello@compare.example.
ADDRESS = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+|\bwww\.\S+")
EMAIL_LINK = re.compile(r"https?://[^\s>)]+")
DESCRIBED = re.compile(r'class="statistic__description"[^>]*>\s*\S')


class Checked:
    """What the crawler looked at, and what it found wrong."""

    def __init__(self):
        self.pages = 0
        self.strings = 0
        self.problems = []

    def text(self, where, text):
        """Check one string a reader sees."""
        self.strings += 1
        for pattern in KEY_LIKE:
            found = pattern.search(ADDRESS.sub(" ", text))
            if found:
                self.problems.append(f"{where}: looks like a key: {found.group()!r} in {text!r}")
        for pattern, what in [
            (TEMPLATE_SYNTAX, "template syntax"),
            (UNTRANSLATED_PLACEHOLDER, "an untranslated placeholder"),
            (NONE, "None"),
        ]:
            found = pattern.search(text)
            if found:
                self.problems.append(f"{where}: {what}: {text!r}")

    def page(self, where, body, content_type):
        self.pages += 1
        if "html" not in content_type:
            for line in body.splitlines():
                if line.strip():
                    self.text(where, line)
            return
        for found in EMPTY_ELEMENT.finditer(body):
            # A hidden element a script fills in (the status page's countdown) is no blank.
            if not re.search(r"\shidden[\s>]", found.group()):
                self.problems.append(f"{where}: empty element {found.group()!r}")
        for found in EMPTY_ATTRIBUTE.finditer(body):
            self.problems.append(f"{where}: empty attribute {found.group()!r}")
        for value in ATTRIBUTE.findall(body):
            self.text(f"{where} (attribute)", html.unescape(value))
        visible = TAG.sub("\n", SCRIPT_OR_STYLE.sub("", body))
        for line in visible.splitlines():
            if line.strip():
                self.text(where, html.unescape(line.strip()))
        for statistic in STATISTIC.findall(body):
            self.strings += 1
            if not (is_sourced(statistic) and DESCRIBED.search(statistic)):
                self.problems.append(f"{where}: a statistic without source, year and link")

    def email(self, email):
        self.pages += 1
        where = f"email “{email.subject}” to {email.to}"
        self.text(where, email.subject)
        if not email.subject.strip() or not email.body.strip():
            self.problems.append(f"{where}: empty subject or body")
        for text in [email.body, email.ics]:
            for line in text.splitlines():
                if line.strip():
                    self.text(where, line)


def is_sourced(statistic):
    """A link to the source, the source's name as its text, and the year after it."""
    line = SOURCE_LINE.search(statistic)
    link = line and SOURCE_LINK.search(line.group(1))
    return bool(link and TAG.sub("", link.group(1)).strip())


def local_path(url):
    """The path (and query) of one of our addresses, or None for anyone else's."""
    parts = urlsplit(urljoin("http://127.0.0.1/", html.unescape(url)))
    site = urlsplit(settings.SITE_URL)
    if parts.scheme not in ("http", "https") or parts.netloc not in ("127.0.0.1", site.netloc):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path.startswith(NOT_CRAWLED):
        return None
    return path


def crawl(client, checked, starts):
    """Every page reachable from ``starts`` by our own links."""
    seen, queue = set(), list(starts)
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (301, 302):
            target = local_path(response["Location"])
            if target:
                queue.append(target)
            continue
        assert response.status_code == 200, f"{path}: {response.status_code}"
        body = response.content.decode()
        checked.page(path, body, response.get("Content-Type", ""))
        links = HREF.findall(body) + LOC.findall(body)
        queue.extend(target for target in map(local_path, links) if target)
    return seen


def slot(days_ahead=2):
    """A free weekday slot, in UTC."""
    return weekday_slot(days_ahead=days_ahead).replace(tzinfo=UTC)


def send_every_email(triager, editor, comparison):
    """Every email of ours, through the code that sends it."""
    visitor = Client(headers={"host": "127.0.0.1"})
    response = visitor.post(reverse("consultations:book"), booking_data(comparison=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    visitor.thanks_page = local_path(response["Location"])
    booked = ConsultationRequest.objects.latest("pk")
    # The same address from another browser: confirmed by a link first.
    Client(headers={"host": "127.0.0.1"}).post(reverse("consultations:book"), booking_data())
    services.reply_to_visitor(consultation=booked, text="Happy to help.", by=triager)
    invitations.schedule_consultation(consultation=booked, start=slot(), by=triager)
    invitations.cancel_by_visitor(consultation=booked)
    invitations.new_times_from_visitor(consultation=booked, starts=[slot(days_ahead=3)])
    invitations.schedule_consultation(consultation=booked, start=slot(), by=triager)
    invitations.cancel_by_staff(consultation=booked, by=triager)
    late = make_consultation(
        comparison=comparison, received_at=timezone.now() - timedelta(hours=30)
    )
    services.warn_due_requests()
    report = reports.submit_report(
        comparison=comparison,
        target=comparison.factors.first(),
        text="Out of date.",
        email="reader@example.com",
    )
    reports.resolve_report(report_pk=report.pk, status="accepted", by=editor)
    assert late.pk
    return visitor


@pytest.fixture
def rendered_templates():
    names = set()

    def note(sender, template, **kwargs):
        names.add(template.name or "")

    template_rendered.connect(note)
    yield names
    template_rendered.disconnect(note)


def test_every_page_email_and_calendar_in_every_language(
    django_capture_on_commit_callbacks, triager, editor, rendered_templates
):
    with django_capture_on_commit_callbacks(execute=True):
        load_demo_content()
    comparison = Comparison.objects.get(slug="pytorch-vs-tensorflow")
    # One figure with its whole source, translated, so that the sourcing check has work.
    statistic = make_statistic(comparison, description="of new ML papers use PyTorch")
    setattr(
        statistic, column("description", "de"), "der neuen ML-Veröffentlichungen nutzen PyTorch"
    )
    statistic.save()
    checked = Checked()
    per_language = {}
    for language, _name in settings.LANGUAGES:
        cache.clear()
        with translation.override(language):
            client = Client(headers={"host": "127.0.0.1"})
            starts = [
                reverse("comparisons:home"),
                reverse("sitemap"),
                reverse("comparisons:search") + "?q=pytorch",
                reverse("comparisons:search") + "?q=Forschung",
                reverse("consultations:book") + f"?comparison={comparison.slug}",
                reverse("comparisons:picker"),
                reverse("comparisons:picker") + "?f=tensorflow&f=pytorch",
                comparison.get_absolute_url() + "?w=production-deployment:critical",
                reverse("robots"),
            ]
            before = checked.pages
            pages = crawl(client, checked, starts)
            assert comparison.get_absolute_url() in pages
            sent_before = OutgoingEmail.objects.count()
            visitor = send_every_email(triager, editor, comparison)
            # The visitor's own pages: the thanks page, and every link the emails carry.
            links = [visitor.thanks_page]
            for email in OutgoingEmail.objects.order_by("pk")[sent_before:]:
                links += [local_path(url) for url in EMAIL_LINK.findall(email.body)]
            crawl(visitor, checked, [link for link in links if link])
            per_language[language] = checked.pages - before
        cache.clear()
    emails = list(OutgoingEmail.objects.all())
    for email in emails:
        checked.email(email)
    templates = {
        name.removeprefix("consultations/email/").removesuffix(".txt")
        for name in rendered_templates
        if name.startswith("consultations/email/")
    }
    every = {
        path.stem
        for path in (settings.BASE_DIR / "templates" / "consultations" / "email").glob("*.txt")
    }
    assert templates == every, f"not sent: {sorted(every - templates)}"
    assert any(email.ics for email in emails)
    line = (
        f"Crawler: {checked.pages} pages, emails and calendars checked "
        f"({', '.join(f'{code}: {n} pages' for code, n in per_language.items())}, "
        f"{len(emails)} emails), {checked.strings} strings; {len(checked.problems)} problems"
    )
    record("crawler", line)
    print(line)
    assert not checked.problems, "\n".join(checked.problems[:50])


@pytest.mark.parametrize(
    "body",
    [
        "<p>comparisonData.pytorch-vs-tensorflow.statistics.0.description</p>",
        "<p>See statistics.0 for the figure</p>",
        "<p>%(count)s comparisons</p>",
        "<p>{{ comparison.title }}</p>",
        "<p>{% trans 'Hello' %}</p>",
        "<p>Version: None</p>",
        "<table><tr><td> </td></tr></table>",
        '<img src="/x.png" alt="">',
        '<meta name="description" content="">',
        '<ul><li class="statistic"><p class="statistic__value">78%</p>'
        '<p class="statistic__description">of papers</p>'
        '<p class="statistic__source">Source: <a href="https://example.org"></a> (2026)</p>'
        "</li></ul>",
        '<ul><li class="statistic"><p class="statistic__value">78%</p>'
        '<p class="statistic__description">of papers</p>'
        '<p class="statistic__source">Source: Papers with Code</p></li></ul>',
    ],
)
def test_the_checks_catch_what_the_seed_page_got_wrong(body):
    checked = Checked()
    checked.page("/planted/", f"<html><body>{body}</body></html>", "text/html")
    assert checked.problems


def test_the_checks_pass_a_good_page():
    checked = Checked()
    checked.page(
        "/good/",
        "<html><body><p>TF.js, 2.5M+ and 80% of papers, PyTorch 2.10, www.tensorflow.org</p>"
        '<ul><li class="statistic"><p class="statistic__description">of papers</p>'
        '<p class="statistic__source">Source: <a href="https://example.org">Papers with Code'
        "</a> (2026)</p></li></ul></body></html>",
        "text/html",
    )
    assert checked.problems == []

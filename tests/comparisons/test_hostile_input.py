"""Property tests: whatever an editor types, the page stays escaped and the database keeps it.

Each editor-written field gets arbitrary and malicious text (script tags,
event handlers, ``javascript:`` links, control characters, 100 KB strings,
unicode edge cases). The model either refuses it with a clear error (too long,
required, or an invisible control character that PostgreSQL would refuse or
that would corrupt a page) or saves exactly what was typed; the public page
then shows it without any of it becoming markup that runs.
"""

import json
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compare_site.validators import ALLOWED_CONTROL_CHARACTERS, DISGUISING_CHARACTERS
from comparisons.forms import assessment_field_name, factor_form_for, framework_rows
from comparisons.models import Comparison
from tests.factories import make_comparison
from tests.support.admin_forms import comparison_fields, management

pytestmark = pytest.mark.django_db

HOSTILE_FRAGMENTS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "' onmouseover='alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert)",
    "javascript:alert(1)",
    "</textarea></title></p></td></table>",
    "<!--",
    "]]>",
    "{{ request }}{% debug %}",
    "'; DROP TABLE comparisons_comparison; --",
    "&lt;script&gt;",
    "&#x3C;script&#x3E;",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\r\n",
    "\t",
    "\u202e",  # right-to-left override
    "\u200b\u200d",  # zero-width space and joiner
    "\ufeff",  # byte order mark
    "\u2028",  # line separator
    "e\u0301",  # combining accent
    "\U0001f600\U0001f469\u200d\U0001f4bb",
    "\U0001d54f",  # outside the basic plane
    "ﷺ",
]

fragments = st.one_of(st.sampled_from(HOSTILE_FRAGMENTS), st.text(max_size=20))
mixed_text = st.lists(fragments, max_size=8).map("".join)
# Up to about 100 KB: one fragment repeated.
long_text = st.builds(lambda fragment, times: fragment * times, fragments, st.integers(1, 4000))
editor_text = st.one_of(mixed_text, st.text(), long_text)


# Each editor-written field: how to reach the instance holding it from a comparison.
FIELDS = {
    "comparison.title": (lambda c: c, "title"),
    "comparison.subtitle": (lambda c: c, "subtitle"),
    "comparison.category": (lambda c: c, "category"),
    "comparison.meta_description": (lambda c: c, "meta_description"),
    "comparison.quick_verdict": (lambda c: c, "quick_verdict"),
    "comparison.recommendation": (lambda c: c, "recommendation"),
    "framework.name": (lambda c: c.participants.first().framework, "name"),
    "participant.choose_when": (lambda c: c.participants.first(), "choose_when"),
    "factor.name": (lambda c: c.factors.first(), "name"),
    "assessment.text": (lambda c: c.factors.first().assessments.first(), "text"),
    "statistic.value": (lambda c: c.statistics.first(), "value"),
    "statistic.description": (lambda c: c.statistics.first(), "description"),
    "statistic.source_name": (lambda c: c.statistics.first(), "source_name"),
}
# Shown through the rich_text filter: sanitised, so not shown verbatim.
RICH_TEXT_FIELDS = {"comparison.quick_verdict", "comparison.recommendation"}

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}
SAFE_SCHEMES = {"", "http", "https", "mailto"}
# Script elements that hold data, not code: browsers never run them.
DATA_BLOCK_TYPES = {"application/ld+json"}


class PageChecker(HTMLParser):
    """Reads a page as a browser would and records anything that could run."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.open = []
        self.data_block = None

    def handle_starttag(self, tag, attrs):
        if tag == "script" and dict(attrs).get("type") in DATA_BLOCK_TYPES:
            # Structured data never runs, but it must stay whole, valid JSON.
            self.data_block = []
        elif tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            self.problems.append(f"inline <script> {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in {"href", "src", "action", "formaction"}:
                scheme = urlsplit((value or "").strip()).scheme.lower()
                if scheme not in SAFE_SCHEMES:
                    self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.open.pop()

    def handle_data(self, data):
        if self.data_block is not None:
            self.data_block.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self.data_block is not None:
            try:
                json.loads("".join(self.data_block))
            except ValueError:
                self.problems.append("a JSON-LD block that is not valid JSON")
            self.data_block = None
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1] if self.open else None}>")
            return
        self.open.pop()


def assert_page_is_safe(html):
    checker = PageChecker()
    checker.feed(html)
    checker.close()
    assert checker.problems == []
    assert checker.open == [], "unclosed elements"


def expected_refusals(instance, field_name, value):
    """The error codes model validation must give for ``value``, and only those."""
    field = instance._meta.get_field(field_name)
    codes = set()
    if any(
        char not in ALLOWED_CONTROL_CHARACTERS and (ord(char) < 32 or 0x7F <= ord(char) <= 0x9F)
        for char in value
    ):
        codes.add("control_character")
    if any(char in DISGUISING_CHARACTERS for char in value):
        codes.add("disguising_character")
    if field.max_length is not None and len(value) > field.max_length:
        codes.add("max_length")
    if not field.blank and value == "":
        codes.add("blank")
    return codes


def visible_texts(label, instance, field_name, value):
    """What the page must contain, escaped, once ``value`` is saved."""
    if label in RICH_TEXT_FIELDS:
        return []
    if label == "participant.choose_when":
        return instance.choose_when_items()
    if label.startswith("statistic.") and not instance.is_complete:
        return []  # An incomplete statistic is not shown at all.
    return [value]


@pytest.mark.parametrize("label", FIELDS)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=editor_text)
def test_editor_text_is_kept_exactly_or_refused_clearly_and_the_page_stays_escaped(label, value):
    reach, field_name = FIELDS[label]
    with transaction.atomic():
        comparison = make_comparison(factors=1, statistics=1)
        instance = reach(comparison)
        setattr(instance, field_name, value)
        expected = expected_refusals(instance, field_name, value)
        try:
            instance.full_clean()
        except ValidationError as refused:
            errors = refused.error_dict
            codes = {error.code for error in errors.get(field_name, [])}
            assert codes, errors
            assert codes <= expected
            # A translated field's English column (comparisons/translation.py) holds the
            # same text under the same rules, so the refusal names it too.
            assert set(errors) <= {field_name, f"{field_name}_en", NON_FIELD_ERRORS}
            if "control_character" in codes:
                assert "invisible control character (U+" in " ".join(
                    refused.message_dict[field_name]
                )
            if "disguising_character" in codes:
                assert "invisible formatting character (U+" in " ".join(
                    refused.message_dict[field_name]
                )
        else:
            assert not expected, f"accepted although it should be refused: {expected}"
            instance.save()
            instance.refresh_from_db()
            assert getattr(instance, field_name) == value

            response = Client().get(comparison.get_absolute_url())
            assert response.status_code == 200
            html = response.content.decode()
            assert_page_is_safe(html)
            for text in visible_texts(label, instance, field_name, value):
                assert escape(text) in html
        transaction.set_rollback(True)


class TestAdminForm:
    """Editors see the refusal as a form error next to the field, in plain words."""

    def post_comparison(self, admin_client, **fields):
        data = comparison_fields(**fields)
        data.update(management("participants", 0))
        data.update(management("factors", 0))
        data.update(management("statistics", 0))
        return admin_client.post(reverse("admin:comparisons_comparison_add"), data)

    @pytest.mark.parametrize("character", ["\x07", "\x1b", "\x7f", "\x85"])
    def test_control_character_is_a_clear_form_error(self, admin_client, character):
        response = self.post_comparison(admin_client, quick_verdict=f"Pick PyTorch{character}.")
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["quick_verdict"] == [
            f"This text contains an invisible control character (U+{ord(character):04X}), "
            "which we cannot store. It usually comes from pasting: retype the text around it."
        ]
        assert not Comparison.objects.exists()

    @pytest.mark.parametrize(
        ("character", "name"),
        [
            ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
            ("\u200b", "ZERO WIDTH SPACE"),
            ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
            ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"),
        ],
    )
    def test_bidi_override_or_zero_width_character_is_a_clear_form_error(
        self, admin_client, character, name
    ):
        # "PyTorch\u202ehcroTyP" would display as "PyTorchPyTorch": a disguised title.
        response = self.post_comparison(admin_client, title=f"PyTorch{character}hcroTyP")
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert errors["title"] == [
            f"This text contains an invisible formatting character (U+{ord(character):04X} "
            f"{name}), which can make text display differently from what it says. It usually "
            "comes from pasting: retype the text around it."
        ]
        assert not Comparison.objects.exists()

    def test_emoji_joiners_are_kept(self, admin_client):
        verdict = "Pick PyTorch \U0001f469\u200d\U0001f4bb."
        response = self.post_comparison(admin_client, quick_verdict=verdict)
        assert response.status_code == 302
        assert Comparison.objects.get().quick_verdict == verdict

    def test_nul_character_is_a_clear_form_error(self, admin_client):
        response = self.post_comparison(admin_client, title="PyTorch\x00 vs TensorFlow")
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["title"] == [
            "Null characters are not allowed."
        ]
        assert not Comparison.objects.exists()

    def test_tabs_and_line_breaks_are_kept(self, admin_client):
        verdict = "First line,\r\n\tindented.\r\n\r\nSecond paragraph."
        response = self.post_comparison(admin_client, quick_verdict=verdict)
        assert response.status_code == 302
        assert Comparison.objects.get().quick_verdict == verdict

    def test_assessment_field_refuses_control_characters(self, admin_client):
        comparison = make_comparison(factors=0)
        form_class = factor_form_for(framework_rows(comparison))
        form = form_class(
            data={
                "position": "1",
                "name": "Speed",
                "decision": "",
                assessment_field_name(0): "Fast\x0b enough",
            }
        )
        assert not form.is_valid()
        assert "invisible control character (U+000B)" in str(form.errors[assessment_field_name(0)])

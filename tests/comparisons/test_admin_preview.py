"""The comparison admin's live Markdown preview: who may ask, what it answers, and the page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from comparisons.admin_preview import PREVIEW_MAX_CHARS
from comparisons.models import FORMATTING_HELP
from comparisons.templatetags.rich_text import render
from tests.factories import make_comparison
from tests.support.admin_forms import change_url

pytestmark = pytest.mark.django_db

PREVIEW_URL = reverse("admin:comparisons_comparison_markdown_preview")
VERDICT = (
    "Pick **JAX** for *TPUs*; see [our method](https://compare.example/methodology/).\n\n"
    "- research\n- `jax.jit`\n\n<script>alert(1)</script>[x](javascript:alert(1))"
)


def preview(client, text):
    return client.post(PREVIEW_URL, {"text": text})


class TestWhoMayPreview:
    def test_editor_gets_the_sanitised_html(self, client, editor):
        client.force_login(editor)
        response = preview(client, "**JAX**")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert response.content.decode() == "<p><strong>JAX</strong></p>"
        assert "no-cache" in response["Cache-Control"]

    def test_anonymous_is_refused_without_a_redirect(self, client):
        response = preview(client, "**JAX**")
        assert response.status_code == 403
        assert "JAX" not in response.content.decode()

    def test_visitor_is_refused(self, client, visitor):
        client.force_login(visitor)
        assert preview(client, "**JAX**").status_code == 403

    def test_triager_is_refused(self, client, triager):
        client.force_login(triager)
        response = preview(client, "**JAX**")
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode() == "Preview unavailable: you may not edit comparisons."

    def test_get_is_not_allowed(self, client, editor):
        client.force_login(editor)
        assert client.get(PREVIEW_URL, {"text": "**JAX**"}).status_code == 405


class TestCsrf:
    def test_post_without_the_token_is_refused(self, editor):
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor)
        assert preview(client, "**JAX**").status_code == 403

    def test_post_with_the_change_form_token_is_answered(self, editor):
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor)
        page = client.get(reverse("admin:comparisons_comparison_add")).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        response = client.post(PREVIEW_URL, {"text": "**JAX**", "csrfmiddlewaretoken": token})
        assert response.status_code == 200
        assert response.content.decode() == "<p><strong>JAX</strong></p>"


class TestAnswer:
    def test_same_html_as_the_public_page(self, client, editor):
        comparison = make_comparison(quick_verdict=VERDICT)
        page = client.get(comparison.get_absolute_url()).content.decode()
        client.force_login(editor)
        answer = preview(client, VERDICT).content.decode()
        assert answer == render(VERDICT)
        assert answer in page
        assert "<script" not in answer
        assert 'href="javascript:' not in answer

    def test_windows_line_endings_as_a_textarea_posts_them(self, client, editor):
        client.force_login(editor)
        assert preview(client, "One,\r\ntwo.").content.decode() == "<p>One,<br>\ntwo.</p>"

    def test_empty_text_gives_an_empty_answer(self, client, editor):
        client.force_login(editor)
        response = preview(client, "")
        assert response.status_code == 200
        assert response.content == b""

    def test_text_at_the_limit_is_previewed(self, client, editor):
        client.force_login(editor)
        assert preview(client, "a" * PREVIEW_MAX_CHARS).status_code == 200

    def test_longer_text_is_refused_in_plain_words(self, client, editor):
        client.force_login(editor)
        response = preview(client, "a" * (PREVIEW_MAX_CHARS + 1))
        assert response.status_code == 413
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode() == "Too long to preview: at most 20,000 characters."


class TestChangePage:
    def test_rich_text_fields_point_at_the_preview_and_load_the_script(self, client, editor):
        comparison = make_comparison(published=False)
        client.force_login(editor)
        page = client.get(change_url(comparison)).content.decode()
        for name in ("quick_verdict", "recommendation", "quick_verdict_de", "recommendation_de"):
            textarea = re.search(rf'<textarea name="{name}"[^>]*>', page).group(0)
            assert f'data-markdown-preview="{PREVIEW_URL}"' in textarea
        assert re.search(r'<script src="/static/js/markdown-preview\.[0-9a-f]+\.js"', page)
        assert re.search(r'href="/static/css/admin-markdown-preview\.[0-9a-f]+\.css"', page)

    def test_other_fields_get_no_preview(self, client, editor):
        comparison = make_comparison(published=False)
        client.force_login(editor)
        page = client.get(change_url(comparison)).content.decode()
        # The verdict and the recommendation, in English and in German.
        assert page.count("data-markdown-preview=") == 4

    def test_help_text_explains_markdown_once_per_field(self, client, editor):
        client.force_login(editor)
        page = client.get(reverse("admin:comparisons_comparison_add")).content.decode()
        # The verdict and the recommendation, in English and in German.
        assert page.count(str(FORMATTING_HELP)) == 4

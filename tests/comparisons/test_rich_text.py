"""The rich_text filter keeps editors' formatting and removes everything that could run."""

from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from comparisons.templatetags.rich_text import rich_text
from tests.factories import make_comparison


def tags_and_attributes(html):
    """Each start tag in ``html`` with its attribute names, as a browser would read them."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, [name for name, _ in attrs]))

    Collector().feed(html)
    return found


class TestFormatting:
    def test_blank_lines_make_paragraphs_and_single_breaks_stay(self):
        assert rich_text("First paragraph.\n\nSecond,\nwith a break.") == (
            "<p>First paragraph.</p>\n<p>Second,<br>\nwith a break.</p>"
        )

    def test_windows_line_endings_from_a_textarea(self):
        assert rich_text("One.\r\n\r\nTwo.") == "<p>One.</p>\n<p>Two.</p>"

    def test_simple_link_gets_safe_rel(self):
        assert rich_text("See [the docs](https://pytorch.org/docs).") == (
            '<p>See <a href="https://pytorch.org/docs" rel="noopener nofollow">the docs</a>.</p>'
        )

    def test_mailto_link_is_kept(self):
        assert 'href="mailto:hello@compare.example"' in rich_text(
            "[Write to us](mailto:hello@compare.example)"
        )

    def test_allowlisted_tags_are_kept(self):
        text = "<strong>Bold</strong>, <em>italic</em> and <code>torch.compile</code>."
        assert rich_text(text) == f"<p>{text}</p>"

    def test_lists_are_not_wrapped_in_a_paragraph(self):
        text = "<ul>\n<li>Research</li>\n<li>Prototyping</li>\n</ul>"
        assert rich_text(text) == text

    def test_plain_characters_are_escaped(self):
        assert rich_text("a < b & c > d") == "<p>a &lt; b &amp; c &gt; d</p>"

    def test_empty_text_gives_nothing(self):
        assert rich_text("") == ""
        assert rich_text(None) == ""


class TestHostileMarkup:
    @pytest.mark.parametrize(
        "link",
        [
            "[click](javascript:alert)",
            '<a href="javascript:alert(1)">click</a>',
            '<a href="JaVaScRiPt:alert(1)">click</a>',
            '<a href=" javascript:alert(1)">click</a>',
            '<a href="java&#09;script:alert(1)">click</a>',
            '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
            '<a href="vbscript:msgbox(1)">click</a>',
        ],
    )
    def test_unsafe_link_schemes_lose_their_address(self, link):
        html = rich_text(link)
        assert "click" in html
        assert "href" not in html
        assert "script:" not in html.lower()
        assert "data:" not in html

    @pytest.mark.parametrize(
        "markup",
        [
            '<img src="x" onerror="alert(1)">',
            '<a href="https://example.org" onclick="alert(1)" onmouseover="alert(1)">x</a>',
            '<p onmouseover="alert(1)">x</p>',
            '<strong style="background:url(javascript:alert(1))">x</strong>',
            '<svg onload="alert(1)"></svg>',
            '<body onload="alert(1)">',
        ],
    )
    def test_event_handlers_and_styles_are_removed(self, markup):
        html = rich_text(markup).lower()
        assert "onerror" not in html
        assert "onclick" not in html
        assert "onmouseover" not in html
        assert "onload" not in html
        assert "style" not in html
        assert "<img" not in html
        assert "<svg" not in html

    @pytest.mark.parametrize(
        "markup",
        [
            "<script>alert(1)</script>",
            "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
            "<scr<script>ipt>alert(1)</script>",
            "<style>body{display:none}</style>",
            "<iframe src=https://evil.example></iframe>",
            '<form action="https://evil.example"><input name="password"></form>',
            "<!-- <script>alert(1)</script> -->",
        ],
    )
    def test_scripts_frames_forms_and_styles_are_removed(self, markup):
        html = rich_text(f"Before. {markup} After.").lower()
        assert "<script" not in html
        assert "<style" not in html
        assert "<iframe" not in html
        assert "<form" not in html
        assert "<input" not in html
        assert "before." in html
        assert "after." in html

    def test_link_text_cannot_break_out_of_the_attribute(self):
        html = rich_text('[a" onmouseover="alert(1)](https://example.org/"onclick="x)')
        assert tags_and_attributes(html) == [
            ("p", []),
            ("a", ["href", "rel"]),
        ]
        assert 'href="https://example.org/&quot;onclick=&quot;x"' in html

    def test_editor_rel_and_target_are_replaced(self):
        html = rich_text('<a href="https://example.org" rel="opener" target="_blank">x</a>')
        assert html == '<p><a href="https://example.org" rel="noopener nofollow">x</a></p>'

    def test_output_is_not_escaped_again_in_a_template(self):
        rendered = Template("{% load rich_text %}{{ text|rich_text }}").render(
            Context({"text": "<strong>Yes</strong><script>no()</script>"})
        )
        assert rendered == "<p><strong>Yes</strong></p>"


@pytest.mark.django_db
class TestComparisonPage:
    def test_verdict_and_recommendation_are_formatted_and_sanitised(self, client):
        comparison = make_comparison(
            quick_verdict="Pick <strong>PyTorch</strong>.\n\n[Benchmarks](https://example.org/b)"
            '<script>alert("verdict")</script>',
            recommendation='Start small.<img src=x onerror="alert(1)">\n\n'
            "[Do not click](javascript:alert)",
        )
        page = client.get(comparison.get_absolute_url()).content.decode()
        assert "<p>Pick <strong>PyTorch</strong>.</p>" in page
        assert '<a href="https://example.org/b" rel="noopener nofollow">Benchmarks</a>' in page
        assert "<p>Start small.</p>" in page
        assert '<p><a rel="noopener nofollow">Do not click</a></p>' in page
        assert 'alert("verdict")' not in page
        assert "onerror" not in page
        assert "javascript:" not in page

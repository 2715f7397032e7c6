"""The rich_text filter keeps editors' formatting and removes everything that could run."""

from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.urls import reverse

from comparisons.demo import SEED
from comparisons.templatetags.rich_text import ALLOWED_TAGS, rich_text
from tests.factories import make_comparison


def tags_and_attributes(html):
    """Each start tag in ``html`` with its attribute names, as a browser would read them."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, [name for name, _ in attrs]))

    Collector().feed(html)
    return found


class TestMarkdown:
    def test_bold_and_italic(self):
        assert rich_text("**JAX** is *fast* and __so__ _is_ XLA.") == (
            "<p><strong>JAX</strong> is <em>fast</em> and <strong>so</strong> <em>is</em> XLA.</p>"
        )

    def test_underscores_inside_words_stay(self):
        assert rich_text("Call torch_xla_device() here.") == (
            "<p>Call torch_xla_device() here.</p>"
        )

    def test_link_gets_safe_rel(self):
        assert rich_text("See [our method](https://compare.example/methodology/).") == (
            '<p>See <a href="https://compare.example/methodology/" rel="noopener nofollow">'
            "our method</a>.</p>"
        )

    def test_mailto_link_and_autolink(self):
        html = rich_text("[Write to us](mailto:hello@compare.example) or <https://jax.dev>")
        assert 'href="mailto:hello@compare.example"' in html
        assert '<a href="https://jax.dev" rel="noopener nofollow">https://jax.dev</a>' in html

    def test_relative_link_is_kept(self):
        assert '<a href="/methodology/" rel="noopener nofollow">how</a>' in rich_text(
            "[how](/methodology/)"
        )

    def test_bullet_and_numbered_lists(self):
        assert rich_text("Pick JAX for:\n\n- research\n- TPUs\n\n3. third\n4. fourth") == (
            "<p>Pick JAX for:</p>\n<ul>\n<li>research</li>\n<li>TPUs</li>\n</ul>\n"
            '<ol start="3">\n<li>third</li>\n<li>fourth</li>\n</ol>'
        )

    def test_inline_and_fenced_code_show_markup_as_text(self):
        assert rich_text("Run `torch.compile(<model>)`.") == (
            "<p>Run <code>torch.compile(&lt;model&gt;)</code>.</p>"
        )
        assert rich_text("```python\nx = a < b\n```") == ("<pre><code>x = a &lt; b\n</code></pre>")

    def test_quote(self):
        assert rich_text("> Fast enough.") == "<blockquote>\n<p>Fast enough.</p>\n</blockquote>"

    def test_blank_lines_make_paragraphs_and_single_breaks_stay(self):
        assert rich_text("First paragraph.\n\nSecond,\nwith a break.") == (
            "<p>First paragraph.</p>\n<p>Second,<br>\nwith a break.</p>"
        )

    def test_windows_line_endings_from_a_textarea(self):
        assert rich_text("One.\r\n\r\nTwo,\r\nthree.") == "<p>One.</p>\n<p>Two,<br>\nthree.</p>"

    @pytest.mark.parametrize("text", ["# Not a heading", "Nor this\n===", "Nor\n---"])
    def test_headings_stay_text_to_keep_the_page_outline(self, text):
        html = rich_text(text)
        assert "<h" not in html
        assert html.startswith("<p>")

    def test_a_thematic_break_stays_as_typed(self):
        assert rich_text("---") == "<p>---</p>"

    def test_an_image_is_never_loaded_but_stays_reachable(self):
        html = rich_text("![chart](https://evil.example/pixel.png)")
        assert "<img" not in html
        assert '<a href="https://evil.example/pixel.png" rel="noopener nofollow">chart</a>' in html

    def test_plain_characters_are_escaped(self):
        assert rich_text("a < b & c > d") == "<p>a &lt; b &amp; c &gt; d</p>"

    def test_empty_text_gives_nothing(self):
        assert rich_text("") == ""
        assert rich_text(None) == ""


class TestOlderText:
    """Text written before Markdown, with the few HTML tags then allowed, looks the same."""

    def test_allowlisted_tags_are_kept(self):
        text = "<strong>Bold</strong>, <em>italic</em> and <code>torch.compile</code>."
        assert rich_text(text) == f"<p>{text}</p>"

    def test_html_lists_are_not_wrapped_in_a_paragraph(self):
        text = "<ul>\n<li>Research</li>\n<li>Prototyping</li>\n</ul>"
        assert rich_text(text) == text

    def test_tab_indented_continuation_is_not_code(self):
        assert rich_text("First line,\n\tindented.") == "<p>First line,<br>\nindented.</p>"

    def test_demo_texts_render_as_one_paragraph(self):
        for text in (SEED["quick_verdict"], SEED["recommendation"]):
            assert rich_text(text) == f"<p>{text}</p>"


class TestHostileMarkup:
    @pytest.mark.parametrize(
        "link",
        [
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

    @pytest.mark.parametrize(
        "text",
        [
            "[click](javascript:alert(1))",
            "[click](JavaScript:alert(1))",
            "[click](&#106;avascript:alert(1))",
            "[click](vbscript:msgbox(1))",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "[click](ftp://files.example/x)",
            "[click][1]\n\n[1]: javascript:alert(1)",
            "<javascript:alert(1)>",
            "*[click](javascript:alert(1))*",
        ],
    )
    def test_markdown_links_to_other_schemes_stay_text(self, text):
        html = rich_text(text)
        assert "<a" not in html
        assert "href" not in html

    def test_link_text_cannot_break_out_of_the_attribute(self):
        html = rich_text('[a" onmouseover="alert(1)](https://example.org/"onclick="x)')
        assert tags_and_attributes(html) == [
            ("p", []),
            ("a", ["href", "rel"]),
        ]
        assert 'href="https://example.org/%22onclick=%22x"' in html

    @pytest.mark.parametrize(
        "text",
        [
            "**<script>alert(1)</script>**",
            "[<img src=x onerror=alert(1)>](https://example.org)",
            '<a href="https://example.org" onclick="alert(1)">**bold**</a>',
            "<div onclick=alert(1)>\n\n**hi**\n\n</div>",
            "- <svg onload=alert(1)>\n- <details open ontoggle=alert(1)>",
            "> <iframe src=https://evil.example></iframe>",
            '<a href="[x](javascript:alert(1))">y</a>',
            "<scr<script>ipt>alert(1)</script>",
        ],
    )
    def test_html_nested_in_markdown_is_cleaned(self, text):
        html = rich_text(text).lower()
        for tag, attributes in tags_and_attributes(html):
            assert tag in ALLOWED_TAGS
            assert set(attributes) <= {"href", "rel", "start"}
        assert "alert(1)" not in html.replace("[x](javascript:alert(1))", "")

    def test_markup_in_code_is_shown_not_run(self):
        assert rich_text("`<script>alert(1)</script>`") == (
            "<p><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></p>"
        )

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
        assert "<p>[Do not click](javascript:alert)</p>" in page
        assert 'alert("verdict")' not in page
        assert "onerror" not in page
        assert 'href="javascript:' not in page


@pytest.mark.django_db
class TestPlainTextOutlets:
    """Markdown is for the page: the outputs that carry no markup never show its syntax.

    Today the feed, the JSON-LD and the meta tags take the meta description or
    the subtitle, never a rich-text field; an outlet that starts to must strip
    the Markdown (render, then strip the tags) rather than show ``**``.
    """

    def test_feed_json_ld_and_meta_tags_show_no_markdown(self, client):
        comparison = make_comparison(
            meta_description="",
            quick_verdict="**JAX** wins on [speed](https://jax.dev).",
            recommendation="*Start* with `jax.jit`.",
        )
        page = client.get(comparison.get_absolute_url()).content.decode()
        head = page.split("</head>")[0]
        feed = client.get(reverse("comparisons:feed")).content.decode()
        for text in (head, feed):
            assert comparison.subtitle in text
            for syntax in ("**", "](", "`", "*Start*"):
                assert syntax not in text

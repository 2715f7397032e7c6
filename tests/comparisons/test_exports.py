"""Take it away: the decision record as Markdown and JSON, with the page's permission rules."""

import html
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from markdown_it import MarkdownIt

from comparisons.decision_record import MarkdownWriter, escape_text
from comparisons.demo import load_demo_content
from comparisons.models import Comparison, OldSlug
from comparisons.templatetags.rich_text import render as render_rich_text
from tests.factories import make_comparison, make_factor, make_framework, make_statistic
from tests.support.pages import page_text

pytestmark = pytest.mark.django_db

SEED = "pytorch-vs-tensorflow"
EDGE_AND_PRODUCTION = "edge-mobile:critical,production-deployment:critical"
SCHEMA = json.loads(
    (Path(settings.BASE_DIR) / "comparisons" / "schemas" / "decision-record-1.json").read_text()
)
# A Markdown viewer as permissive as they come: CommonMark with raw HTML on, and tables.
VIEWER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def markdown_url(slug=SEED, weights=None):
    url = reverse("comparisons:decision_markdown", kwargs={"slug": slug})
    return url + (f"?w={weights}" if weights else "")


def json_url(slug=SEED, weights=None):
    url = reverse("comparisons:decision_json", kwargs={"slug": slug})
    return url + (f"?w={weights}" if weights else "")


def validate(document):
    """Every problem with ``document`` against the published schema, formats included."""
    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(document)]


def table_rows(markdown):
    """The factor table as a viewer renders it: one list of cell texts per row."""
    html = VIEWER.render(markdown)
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S) for row in rows]


def today():
    return dateformat.format(timezone.localdate(), "j F Y")


class TestSeedMarkdown:
    def test_the_default_view(self, client):
        load_demo_content()
        response = client.get(markdown_url())
        assert response.status_code == 200
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        assert response["Content-Disposition"] == (
            'attachment; filename="pytorch-vs-tensorflow-decision.md"'
        )
        assert "X-Robots-Tag" not in response
        page_url = f"{settings.SITE_URL}/compare/pytorch-vs-tensorflow/"
        assert response["Link"] == f'<{page_url}>; rel="canonical"'
        text = response.content.decode()
        assert text.startswith(
            "# Decision record: PyTorch vs TensorFlow: Which Deep Learning Framework in 2026\n"
        )
        assert f"- Date: {today()}\n" in text
        assert f"- Page as of: {today()}\n" in text  # loaded (published) today
        assert f"- The page: <{page_url}>\n" in text
        assert "with your weights" not in text
        assert "- PyTorch (recommended by the page)\n- TensorFlow\n" in text
        assert "Weights: every factor counts the same (normal), as on the page." in text
        assert "\n\nPyTorch leads 3 to 2.\n" in text
        assert (
            "TensorFlow would lead if Production Deployment counted for more: "
            "mark it as critical." in text
        )
        assert "A close call" in text
        assert "No statistic on this page has a complete source yet." in text
        assert text.endswith(
            "## Decision\n\nPyTorch wins for research and DX. "
            "TensorFlow remains strong for production and edge deployment.\n"
        )

    def test_the_factor_table(self, client):
        load_demo_content()
        rows = table_rows(client.get(markdown_url()).content.decode())
        assert rows[0] == ["Factor", "Weight", "PyTorch", "TensorFlow", "Winner"]
        assert rows[1] == [
            "Developer Experience",
            "normal",
            "Pythonic, intuitive eager execution, easy debugging",
            "Improved with 2.x but more verbose, Keras simplifies",
            "<strong>PyTorch</strong>",
        ]
        assert [row[0] for row in rows[1:]] == [
            "Developer Experience",
            "Research Adoption",
            "Production Deployment",
            "Edge Mobile",
            "Community Ecosystem",
        ]
        assert rows[3][3] == "TF Serving, TFLite, TF.js — mature ecosystem"

    def test_with_edge_and_production_critical_tensorflow_leads(self, client):
        load_demo_content()
        response = client.get(markdown_url(weights=EDGE_AND_PRODUCTION))
        assert response.status_code == 200
        assert response["X-Robots-Tag"] == "noindex"
        text = response.content.decode()
        page_url = f"{settings.SITE_URL}/compare/pytorch-vs-tensorflow/"
        # One spelling of the weights (page order), and the plain page too.
        assert (
            f"- This view, with your weights: <{page_url}"
            "?w=production-deployment:critical,edge-mobile:critical>\n" in text
        )
        assert f"- The page: <{page_url}>\n" in text
        assert (
            "Your weights: Production Deployment critical; Edge Mobile critical; "
            "every other factor normal." in text
        )
        assert "\n\nWith your weights, TensorFlow leads 6 to 3.\n" in text
        assert (
            "PyTorch would lead if Developer Experience and Research Adoption together "
            "counted for more: mark both as critical." in text
        )
        assert "A close call" not in text
        weights = {row[0]: row[1] for row in table_rows(text)[1:]}
        assert weights == {
            "Developer Experience": "normal",
            "Research Adoption": "normal",
            "Production Deployment": "critical",
            "Edge Mobile": "critical",
            "Community Ecosystem": "normal",
        }

    def test_no_raw_keys(self, client):
        load_demo_content()
        for weights in (None, EDGE_AND_PRODUCTION):
            text = client.get(markdown_url(weights=weights)).content.decode()
            body = text.split("## Context", 1)[1]  # the links above carry the query
            for raw in ("edge-mobile", "developer-experience", "pytorch", "None", "null"):
                assert raw not in body
            assert "weight_value" not in text and "comparisonData" not in text

    def test_unknown_weights_are_ignored_with_the_notice_in_the_record(self, client):
        load_demo_content()
        response = client.get(markdown_url(weights="edge-mobile:huge,speed:critical"))
        assert response.status_code == 200
        text = response.content.decode()
        assert "> Note: “huge” is not a weight" in text
        assert "> Note: “speed:critical” names no factor of this page; it was ignored." in text
        assert "\n\nPyTorch leads 3 to 2.\n" in text

    def test_a_hostile_query_stays_text(self, client):
        load_demo_content()
        response = client.get(markdown_url(), {"w": "<script>alert(1)</script>|x:`y`"})
        html = VIEWER.render(response.content.decode())
        assert "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;|x:`y`" in html


class TestSeedJson:
    @pytest.mark.parametrize("weights", [None, EDGE_AND_PRODUCTION, "nonsense:ignore"])
    def test_valid_against_the_schema(self, client, weights):
        load_demo_content()
        response = client.get(json_url(weights=weights))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response["Content-Disposition"] == (
            'inline; filename="pytorch-vs-tensorflow-decision.json"'
        )
        assert validate(response.json()) == []

    def test_the_schema_is_a_valid_schema_at_its_address(self, client):
        Draft202012Validator.check_schema(SCHEMA)
        response = client.get(reverse("comparisons:decision_schema"))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/schema+json"
        assert json.loads(response.content) == SCHEMA

    def test_the_default_view(self, client):
        load_demo_content()
        document = client.get(json_url()).json()
        page_url = f"{settings.SITE_URL}/compare/pytorch-vs-tensorflow/"
        assert document["schema"] == settings.SITE_URL + "/schemas/decision-record-1.json"
        assert document["schema_version"] == 1
        assert document["title"].startswith("PyTorch vs TensorFlow")
        assert document["generated_on"] == timezone.localdate().isoformat()
        assert document["page"]["url"] == document["page"]["view_url"] == page_url
        assert document["page"]["state"] == "published"
        assert document["page"]["preview"] is False
        assert [option["name"] for option in document["options"]] == ["PyTorch", "TensorFlow"]
        assert document["options"][0]["recommended"] is True
        assert document["weights"] == {"query": "", "is_default": True, "notices": []}
        first = document["factors"][0]
        assert first == {
            "key": "developer-experience",
            "name": "Developer Experience",
            "weight": "normal",
            "weight_value": 1,
            "assessments": [
                {
                    "option": "pytorch",
                    "text": "Pythonic, intuitive eager execution, easy debugging",
                },
                {
                    "option": "tensorflow",
                    "text": "Improved with 2.x but more verbose, Keras simplifies",
                },
            ],
            "outcome": "won",
            "winner": "pytorch",
        }
        assert document["result"]["summary"] == "PyTorch leads 3 to 2."
        assert document["result"]["close_call"] is True
        assert document["result"]["standings"] == [
            {"option": "pytorch", "score": 3, "wins": 3},
            {"option": "tensorflow", "score": 2, "wins": 2},
        ]
        assert document["statistics"] == []  # the seed's figures have no source
        assert document["recommendation"]["markdown"].startswith("PyTorch wins for research")
        assert document["recommendation"]["html"].startswith("<p>PyTorch wins for research")

    def test_with_edge_and_production_critical(self, client):
        load_demo_content()
        response = client.get(json_url(weights=EDGE_AND_PRODUCTION))
        assert response["X-Robots-Tag"] == "noindex"
        document = response.json()
        assert document["weights"]["query"] == (
            "production-deployment:critical,edge-mobile:critical"
        )
        assert document["page"]["view_url"].endswith(
            "/compare/pytorch-vs-tensorflow/?w=production-deployment:critical,edge-mobile:critical"
        )
        assert document["result"]["summary"] == "With your weights, TensorFlow leads 6 to 3."
        assert {factor["key"]: factor["weight_value"] for factor in document["factors"]} == {
            "developer-experience": 1,
            "research-adoption": 1,
            "production-deployment": 3,
            "edge-mobile": 3,
            "community-ecosystem": 1,
        }


@pytest.fixture
def sourced():
    """A published comparison with a tie, a missing assessment, and sourced statistics."""
    frameworks = [make_framework("Alpha"), make_framework("Beta")]
    comparison = make_comparison(frameworks, slug="alpha-vs-beta", title="Alpha vs Beta")
    alpha, beta = comparison.participants.all()
    make_factor(comparison, winner=alpha, name="Speed")
    make_factor(comparison, is_tie=True, name="Docs")
    make_factor(comparison, [alpha], winner=None, name="Price")
    make_statistic(
        comparison,
        value="78%",
        description="of new papers use Alpha",
        source_name="Papers Index",
        source_url="https://example.org/papers?year=2026&kind=ml",
        year=timezone.now().year,
    )
    make_statistic(comparison, value="2x", year=timezone.now().year - 5)
    make_statistic(comparison, value="Unsourced", source_url="")  # never shown
    return comparison


class TestCitationsTiesAndGaps:
    def test_statistics_are_citations(self, client, sourced):
        text = client.get(markdown_url("alpha-vs-beta")).content.decode()
        year = timezone.now().year
        assert (
            f"1. **78%** of new papers use Alpha. Papers Index, {year}. "
            "<https://example.org/papers?year=2026&kind=ml>" in text
        )
        assert f"2. **2x** of teams surveyed use it. Example Survey, {year - 5}. " in text
        assert f"From {year - 5}: may be out of date." in text
        assert "Unsourced" not in text

    def test_ties_and_undecided_factors(self, client, sourced):
        text = client.get(markdown_url("alpha-vs-beta")).content.decode()
        rows = {row[0]: row for row in table_rows(text)[1:]}
        assert rows["Docs"][-1] == "Tie"
        assert rows["Price"][-1] == "Not decided yet"
        assert rows["Price"][3] == "Not assessed yet"
        assert "Ties: Docs." in text

    def test_json_of_the_same(self, client, sourced):
        document = client.get(json_url("alpha-vs-beta")).json()
        assert validate(document) == []
        outcomes = {factor["name"]: factor["outcome"] for factor in document["factors"]}
        assert outcomes == {"Speed": "won", "Docs": "tie", "Price": "undecided"}
        price = document["factors"][2]
        assert price["winner"] is None and price["assessments"][1]["text"] is None
        assert [statistic["stale"] for statistic in document["statistics"]] == [False, True]
        assert document["statistics"][0]["url"] == "https://example.org/papers?year=2026&kind=ml"
        assert document["result"]["ties"] == ["Docs"]


HOSTILE_NAME = "Speed | <script>alert(1)</script>\nnew row | `x`"
HOSTILE_TEXT = (
    "Fast | very\n\n| a | b |\n|---|---|\n<img src=x onerror=alert(1)> `code | here` "
    "[click](javascript:alert(1)) ![i](https://evil.example/i.png) &lt;b&gt; **bold** _x_"
)
HOSTILE_MARKDOWN = (
    "# Not a heading\n\n"
    "Use **Alpha** and [its docs](https://alpha.example/docs?a=1&b=(2)).\n"
    "[click](javascript:alert(1)) <script>alert(1)</script> <b onclick=x>b</b>\n\n"
    "- one | two\n- `tick`s` and <i>\n\n"
    "1. first\n2. second\n\n"
    "> quoted\n\n"
    "```\n<script>alert(2)</script>\n```\n\n"
    "[relative](/methodology/) [mail](mailto:team@example.org)"
)


@pytest.fixture
def hostile():
    frameworks = [make_framework("Alpha | <b>", slug="alpha"), make_framework("Beta")]
    comparison = make_comparison(
        frameworks,
        slug="hostile",
        title="# Alpha <script>x</script> vs *Beta*",
        subtitle="- not a list\n=====",
        recommendation=HOSTILE_MARKDOWN,
        quick_verdict="1. Not a list? <script>alert(3)</script>",
    )
    alpha, _ = comparison.participants.all()
    factor = make_factor(comparison, winner=alpha, name=HOSTILE_NAME)
    assessment = factor.assessments.get(participant=alpha)
    assessment.text = HOSTILE_TEXT
    assessment.save()
    make_statistic(
        comparison,
        value="9 | 9",
        description="[x](javascript:alert(1)) <script>",
        source_name="`Evil` *Inc*",
        source_url="https://example.org/a><script>alert(1)</script>|(x)",
    )
    return comparison


class TestHostileEditorText:
    def rendered(self, client):
        markdown = client.get(markdown_url("hostile")).content.decode()
        return markdown, VIEWER.render(markdown)

    def test_no_markup_runs_in_a_markdown_viewer(self, client, hostile):
        _, html = self.rendered(client)
        assert "<script" not in html.lower()
        assert "<img" not in html and "<b " not in html and "<b>" not in html
        assert "onerror" not in re.sub(r"&lt;img src=x onerror=alert\(1\)&gt;", "", html)
        hrefs = re.findall(r'href="([^"]*)"', html)
        assert all(href.startswith(("https://", "http://", "mailto:")) for href in hrefs), hrefs

    def test_the_table_keeps_its_shape(self, client, hostile):
        markdown, _ = self.rendered(client)
        rows = table_rows(markdown)
        assert len(rows) == 2  # the header and the one factor
        assert all(len(row) == 5 for row in rows)
        assert rows[0][2] == "Alpha | &lt;b&gt;"
        assert rows[1][0] == "Speed | &lt;script&gt;alert(1)&lt;/script&gt; new row | `x`"
        assert rows[1][2].startswith("Fast | very | a | b | |---|---| &lt;img src=x")
        assert "[click](javascript:alert(1))" in rows[1][2]
        assert "&amp;lt;b&amp;gt; **bold** _x_" in rows[1][2]

    def test_plain_fields_start_no_block(self, client, hostile):
        markdown, html = self.rendered(client)
        assert "<h1>Decision record: # Alpha &lt;script&gt;x&lt;/script&gt; vs *Beta*</h1>" in html
        assert html.count("<h1>") == 1
        assert "<p>- not a list =====</p>" in html
        assert "<h2>" in html and "<h1>Not a heading" not in html

    def test_the_editors_markdown_keeps_its_formatting_and_loses_its_tricks(self, client, hostile):
        _, html = self.rendered(client)
        decision = html.split("<h2>Decision</h2>", 1)[1]
        assert "<p># Not a heading</p>" in decision
        assert "<strong>Alpha</strong>" in decision
        assert '<a href="https://alpha.example/docs?a=1&amp;b=%282%29">its docs</a>' in decision
        assert "[click](javascript:alert(1))" in decision
        assert "<li>one | two</li>" in decision
        assert "<code>tick</code>" in decision
        assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in decision
        assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in decision
        assert "<pre><code>&lt;script&gt;alert(2)&lt;/script&gt;\n</code></pre>" in decision
        assert f'<a href="{settings.SITE_URL}/methodology/">relative</a>' in decision
        assert '<a href="mailto:team@example.org">mail</a>' in decision
        # As on the page: the editor's "1." starts a list there too.
        verdict = html.split("<h2>Quick verdict</h2>", 1)[1].split("<h2>", 1)[0]
        assert verdict.strip() == "<ol>\n<li>Not a list?</li>\n</ol>"

    def test_a_link_cannot_be_ended_early(self, client, hostile):
        markdown, html = self.rendered(client)
        assert (
            "<https://example.org/a%3E%3Cscript%3Ealert%281%29%3C/script%3E%7C%28x%29>" in markdown
        )
        evidence = html.split("<h2>Evidence</h2>", 1)[1].split("<h2>", 1)[0]
        assert "<script" not in evidence
        assert 'href="https://example.org/a%3E%3Cscript%3Ealert%281%29' in evidence
        assert "[x](javascript:alert(1)) &lt;script&gt;" in evidence

    def test_json_holds_the_text_as_typed_and_the_html_as_sanitised(self, client, hostile):
        document = client.get(json_url("hostile")).json()
        assert validate(document) == []
        assert document["factors"][0]["name"] == HOSTILE_NAME
        assert document["factors"][0]["assessments"][0]["text"] == HOSTILE_TEXT
        html = document["recommendation"]["html"]
        assert "<script" not in html and "javascript:" not in html.replace(
            "[click](javascript:alert(1))", ""
        )


# Any text an editor or a query could hold: printable characters (the validators
# refuse control characters) and, more often, the ones that mean something in Markdown.
CHARACTERS = st.characters(blacklist_categories=("Cc", "Cs"))
MARKDOWN_CHARACTERS = st.sampled_from(list("\n\t |\\`*_[]()<>&#!-+=~:.1)\"'"))
TEXT = st.text(CHARACTERS | MARKDOWN_CHARACTERS, max_size=40)
FRAGMENTS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "[ok](https://example.org/a_(b))",
        "<a href='javascript:x'>a</a>",
        "**",
        "`",
        "```",
        "\n\n",
        "\n- ",
        "\n1. ",
        "\n> ",
        "# ",
        "<b>",
        "&lt;",
        "|",
        "![i](https://example.org/i.png)",
        "<https://example.org>",
        "mailto:a@example.org",
    ]
)
EDITOR_TEXT = st.lists(FRAGMENTS | TEXT, max_size=12).map("".join)
ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "code", "pre", "blockquote"}


def folded(text):
    return re.sub(r"\s+", " ", text).strip()


class TestEscapingProperties:
    @given(TEXT)
    def test_plain_text_shows_as_typed_on_one_line(self, text):
        rendered = VIEWER.render(escape_text(text))
        if not folded(text):
            return
        assert rendered.startswith("<p>") and rendered.endswith("</p>\n")
        assert rendered.count("<") == 2  # no element but the paragraph
        assert html.unescape(rendered[3:-5]) == folded(text)

    @given(TEXT, TEXT)
    def test_a_table_cell_holds_any_text(self, first, second):
        row = f"| {escape_text(first)} | {escape_text(second)} |"
        rows = table_rows(f"| x | y |\n| --- | --- |\n{row}\n")
        assert len(rows) == 2
        assert [html.unescape(cell) for cell in rows[1]] == [folded(first), folded(second)]

    @given(EDITOR_TEXT)
    def test_editor_markdown_makes_no_more_than_the_page_allows(self, text):
        markdown = MarkdownWriter.convert(render_rich_text(text), base_url="https://site.example/")
        rendered = VIEWER.render(markdown)
        tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", rendered))
        assert tags <= ALLOWED_TAGS, (text, markdown)
        for href in re.findall(r"<a\s+href=\"([^\"]*)\"", rendered):
            assert href.startswith(("http://", "https://", "mailto:")), (text, markdown)
        assert rendered.count("<a ") == len(re.findall(r"<a\s+href=", rendered))


class TestPermissions:
    @pytest.mark.parametrize("url", [markdown_url, json_url])
    @pytest.mark.parametrize("state", ["draft", "scheduled"])
    @pytest.mark.parametrize("who", ["anonymous", "signed-in visitor", "staff without rights"])
    def test_unpublished_pages_are_never_exported_to_the_public(
        self, client, url, state, who, visitor, triager
    ):
        if state == "draft":
            make_comparison(slug="secret", title="Secret plan", published=False, factors=1)
        else:
            due = timezone.now() + timezone.timedelta(days=1)
            make_comparison(slug="secret", title="Secret plan", published_at=due, factors=1)
        if who == "signed-in visitor":
            client.force_login(visitor)
        elif who == "staff without rights":
            client.force_login(triager)
        for _ in range(2):
            response = client.get(url("secret"))
            assert response.status_code == 404
            assert "Secret plan" not in response.content.decode()

    @pytest.mark.parametrize("state", ["draft", "scheduled"])
    def test_an_editor_exports_a_preview_never_cached(self, client, editor, state):
        if state == "draft":
            make_comparison(slug="secret", title="Secret plan", published=False, factors=2)
        else:
            due = timezone.now() + timezone.timedelta(days=1)
            make_comparison(slug="secret", title="Secret plan", published_at=due, factors=2)
        client.force_login(editor)
        markdown = client.get(markdown_url("secret"))
        assert markdown.status_code == 200
        label = "Draft" if state == "draft" else "Scheduled"
        assert f"- Page status: {label} (preview: not public)" in markdown.content.decode()
        document = client.get(json_url("secret")).json()
        assert document["page"]["preview"] is True
        assert document["page"]["state"] == state
        assert validate(document) == []
        for response in (markdown, client.get(json_url("secret"))):
            assert "no-store" in response["Cache-Control"]
            assert "private" in response["Cache-Control"]
            assert response["X-Robots-Tag"] == "noindex"
        client.logout()
        assert client.get(markdown_url("secret")).status_code == 404

    def test_a_former_address_redirects_to_the_export(self, client):
        comparison = make_comparison(slug="alpha-vs-beta", factors=2)
        OldSlug.objects.create(comparison=comparison, slug="alpha-vs-b")
        response = client.get(markdown_url("alpha-vs-b", weights="factor-1:critical"))
        assert response.status_code == 301
        assert response["Location"] == markdown_url("alpha-vs-beta", weights="factor-1:critical")

    def test_only_reading_is_allowed(self, client):
        load_demo_content()
        assert client.post(markdown_url()).status_code == 405


class TestCache:
    def test_a_cached_export_keeps_its_headers(self, client, django_assert_num_queries):
        load_demo_content()
        canonical = "production-deployment:critical,edge-mobile:critical"
        first = client.get(markdown_url(weights=canonical))
        with django_assert_num_queries(0):
            again = client.get(markdown_url(weights=canonical))
        assert again.content == first.content
        for name in ("Content-Disposition", "X-Robots-Tag", "Link"):
            assert again[name] == first[name]

    def test_the_plain_export_is_cached_with_its_headers(self, client, django_assert_num_queries):
        load_demo_content()
        client.get(markdown_url())
        with django_assert_num_queries(0):
            again = client.get(markdown_url())
        assert again["Content-Disposition"].startswith("attachment;")
        assert again["Content-Type"] == "text/markdown; charset=utf-8"

    def test_another_spelling_or_junk_is_answered_but_not_stored(self, client):
        load_demo_content()
        for weights in (EDGE_AND_PRODUCTION, "junk", "edge-mobile:critical,junk:x"):
            response = client.get(markdown_url(weights=weights))
            assert response.status_code == 200
            assert "private" in response["Cache-Control"]
        assert (
            "With your weights, TensorFlow leads 6 to 3."
            in client.get(markdown_url(weights=EDGE_AND_PRODUCTION)).content.decode()
        )

    def test_the_query_count_does_not_grow_with_the_page(self, client, django_assert_num_queries):
        small = make_comparison(slug="small", factors=2, statistics=1)
        large = make_comparison(
            [make_framework() for _ in range(4)], slug="large", factors=50, statistics=10
        )
        client.get(json_url(small.slug))  # the content version
        # comparison, participants with frameworks, factors, assessments, statistics
        with django_assert_num_queries(5):
            client.get(json_url(small.slug, weights="factor-1:critical"))
        with django_assert_num_queries(5):
            client.get(markdown_url(large.slug, weights="factor-1:critical"))


class TestPageLinks:
    def test_the_page_links_to_both_exports_before_the_recommendation(self, client):
        load_demo_content()
        response = client.get(reverse("comparisons:detail", kwargs={"slug": SEED}))
        body = response.content.decode()
        assert f'href="{markdown_url()}"' in body
        assert f'href="{json_url()}"' in body
        assert body.index('id="take-away-heading"') < body.index('id="recommendation-heading"')
        text = page_text(response)
        assert "Take it away" in text and "Decision record (Markdown)" in text

    def test_the_links_carry_the_readers_weights(self, client):
        """A weighted view's links and print line keep the reader's view."""
        load_demo_content()
        url = reverse("comparisons:detail", kwargs={"slug": SEED})
        response = client.get(url, {"w": "edge-mobile:critical"})
        body = response.content.decode()
        assert f'href="{markdown_url(weights="edge-mobile:critical")}"' in body
        assert f'href="{json_url(weights="edge-mobile:critical")}"' in body
        assert "Keep this comparison, with your weights, as a decision record" in page_text(
            response
        )
        assert "/compare/pytorch-vs-tensorflow/?w=edge-mobile:critical (the page as of" in (
            page_text(response)
        )

    def test_print_line_names_the_page_and_its_date(self, client):
        load_demo_content()
        comparison = Comparison.objects.get(slug=SEED)
        response = client.get(comparison.get_absolute_url())
        date = dateformat.format(timezone.localtime(comparison.modified_at), "j F Y")
        assert (
            f"Printed from {settings.SITE_URL}{comparison.get_absolute_url()} "
            f"(the page as of {date})" in page_text(response)
        )


class TestGermanExport:
    """Under /de/ the record is German where the page is: each translated field as
    the page shows it, English (and said to be) where the page falls back."""

    @pytest.fixture
    def page(self):
        comparison = make_comparison(
            [make_framework("PyTorch"), make_framework("TensorFlow")],
            factors=2,
            title="PyTorch vs TensorFlow",
            title_de="PyTorch oder TensorFlow <b>*",
            quick_verdict="PyTorch for research.",
            quick_verdict_de="PyTorch für die **Forschung**.",
            translations_published=["de"],
        )
        first = comparison.factors.first()
        first.name_de = "Entwicklungskomfort"
        first.save()
        return comparison

    def german_json(self, client, comparison):
        response = client.get("/de" + json_url(comparison.slug))
        assert response.status_code == 200
        return json.loads(response.content)

    def test_json_is_german_where_translated_and_names_the_english_rest(self, client, page):
        document = self.german_json(client, page)
        assert validate(document) == []
        assert document["language"] == "de"
        assert document["title"] == "PyTorch oder TensorFlow <b>*"
        assert document["quick_verdict"]["markdown"] == "PyTorch für die **Forschung**."
        assert document["factors"][0]["name"] == "Entwicklungskomfort"
        assert document["factors"][1]["name"] == "Factor 2"
        assert "/factors/1/name" in document["untranslated"]
        assert "/title" not in document["untranslated"]
        assert "/factors/0/name" not in document["untranslated"]
        assert document["page"]["url"].endswith(f"/de/compare/{page.slug}/")

    def test_english_json_says_english_and_nothing_untranslated(self, client, page):
        document = json.loads(client.get(json_url(page.slug)).content)
        assert (document["language"], document["untranslated"]) == ("en", [])
        assert document["title"] == "PyTorch vs TensorFlow"
        assert document["factors"][0]["name"] != "Entwicklungskomfort"

    def test_an_unpublished_german_translation_is_never_exported_as_german(self, client, page):
        Comparison.objects.filter(pk=page.pk).update(translations_published=[])
        document = self.german_json(client, page)
        assert document["title"] == "PyTorch vs TensorFlow"
        assert document["factors"][0]["name"] != "Entwicklungskomfort"
        assert document["quick_verdict"]["markdown"] == "PyTorch for research."
        assert {"/title", "/quick_verdict", "/factors/0/name"} <= set(document["untranslated"])
        markdown = client.get("/de" + markdown_url(page.slug)).content.decode()
        assert "Entwicklungskomfort" not in markdown and "Forschung" not in markdown
        assert "# Entscheidungsprotokoll: PyTorch vs TensorFlow (Noch nicht übersetzt)" in markdown

    def test_markdown_is_german_escaped_and_marks_what_fell_back(self, client, page):
        response = client.get("/de" + markdown_url(page.slug))
        assert response.status_code == 200
        markdown = response.content.decode()
        title = "# Entscheidungsprotokoll: PyTorch oder TensorFlow &lt;b&gt;\\*\n"
        assert markdown.startswith(title)
        assert "- Sprache: Deutsch" in markdown
        assert "## Faktoren" in markdown and "## Kurzfazit" in markdown
        assert "PyTorch für die **Forschung**." in markdown
        rows = table_rows(markdown)
        assert rows[0][:2] == ["Faktor", "Gewichtung"]
        assert rows[1][0] == "Entwicklungskomfort"
        assert rows[2][0] == "Factor 2 (Noch nicht übersetzt)"
        english = client.get(markdown_url(page.slug)).content.decode()
        assert "- Language: English" in english and "Noch nicht" not in english

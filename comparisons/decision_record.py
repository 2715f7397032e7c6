"""
A decision record: the reader's current view of a comparison page, to take away.

One record, two spellings. :func:`build_record` makes the document (plain
data, exactly the JSON export, described by ``comparisons/schemas/
decision-record-1.json``); :func:`render_markdown` writes the same document as
a Markdown decision record in the manner of an ADR. Both come from the page's
own rules: the weights and the result from weighing.py, the statistics a
visitor may see (complete ones), the editor's text sanitised by rich_text.

Markdown safety. A record is opened in Markdown viewers we do not control, so
nothing in it may become markup its author did not intend:

- Plain text (titles, names, assessments, statistics, reader-supplied
  weights in notices) goes through :func:`escape_text`: ``&``, ``<`` and ``>``
  become entities (no raw HTML, in any Markdown dialect), the characters that
  make emphasis, code, links and table cells are backslash-escaped, a line
  start cannot open a heading or a list, and line breaks fold to spaces; ``|``
  is escaped too, so a table cell cannot end early.
- The editor's Markdown (the quick verdict and the recommendation) is not
  copied as typed: it is rendered and sanitised exactly as on the page
  (rich_text.render), and that small allowlisted HTML is written back as
  Markdown by :class:`MarkdownWriter`, escaping each piece of text as above.
  So the record keeps the editor's bold, lists and links, and can hold no
  more than the page shows: no HTML, no ``javascript:`` links, no headings
  that would break the record's outline.
- Links are written only for http, https and mailto, percent-encoded so that
  no character can end them early.
"""

import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote, urljoin

from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import get_language_info, gettext

from .models import STATE_LABELS
from .templatetags.rich_text import render as render_rich_text
from .templatetags.translated import untranslated_note
from .translation import current_language, shown_text
from .weighing import (
    DEFAULT_WEIGHT,
    QUERY_PARAMETER,
    WEIGHT_LABELS,
    WEIGHT_NAMES,
    factor_keys,
    read_weights,
    weigh,
)

SCHEMA_VERSION = 1
SCHEMA_FILE = f"decision-record-{SCHEMA_VERSION}.json"
DATE_FORMAT = "j F Y"
LINK_SCHEMES = ("http://", "https://", "mailto:")


def schema_url():
    return settings.SITE_URL + reverse("comparisons:decision_schema")


def compared_name(participant):
    """The framework's name with the version compared, where the page has versions.

    Participant.name_with_version() arrives with framework versions (issue 13,
    "What was compared"); until then the name alone.
    """
    name_with_version = getattr(participant, "name_with_version", None)
    return name_with_version() if name_with_version else participant.framework.name


def iso_date(moment):
    return timezone.localdate(moment).isoformat() if moment else None


def build_record(comparison, weight_values, *, preview=False):
    """The decision record of ``comparison`` at the weights in ``weight_values``
    (the query's ``w`` values), as JSON-ready data.

    ``comparison`` comes from Comparison.objects.with_page_data(): this reads
    only what that prefetched.

    The record is in the active language (the export's address, as the page's).
    Each translated field is what the page shows (translation.shown_text): its
    published translation, or the English text, whose place in the record
    ``untranslated`` lists as a JSON Pointer ("/factors/1/name").
    """
    language = current_language()
    untranslated = []

    def shown(instance, field, pointer):
        text = shown_text(instance, field, language)
        if text.fallback:
            untranslated.append(pointer)
        return text.text

    def assessment_text(assessment, pointer):
        return (shown(assessment, "text", pointer) if assessment else "") or None

    participants = list(comparison.participants.all())
    factors = list(comparison.factors.all())
    statistics = list(comparison.statistics.all())
    read = read_weights(weight_values, factors)
    result = weigh(participants, factors, read.weights)
    keys = factor_keys(factors)
    slug_of = {participant.pk: participant.framework.slug for participant in participants}
    page_url = settings.SITE_URL + comparison.get_absolute_url()
    view_url = page_url + (f"?{QUERY_PARAMETER}={read.query}" if read.query else "")
    assessments = [factor.assessments_by_participant(participants) for factor in factors]
    record = {
        "schema": schema_url(),
        "schema_version": SCHEMA_VERSION,
        "language": language,
        "untranslated": untranslated,
        "title": shown(comparison, "title", "/title"),
        "subtitle": shown(comparison, "subtitle", "/subtitle"),
        "generated_on": timezone.localdate().isoformat(),
        "page": {
            "url": page_url,
            "view_url": view_url,
            "state": comparison.state(),
            "preview": preview,
            "published_on": iso_date(comparison.published_at),
            "content_date": iso_date(comparison.modified_at),
            "last_reviewed_on": iso_date(comparison.last_reviewed_at),
        },
        "options": [
            {
                "slug": participant.framework.slug,
                "name": participant.framework.name,
                "label": compared_name(participant),
                # Participant.version and version_as_of come with framework versions.
                "version": getattr(participant, "version", "") or None,
                "version_as_of": iso_date_or_none(getattr(participant, "version_as_of", None)),
                "recommended": participant.is_recommended,
            }
            for participant in participants
        ],
        "weights": {
            "query": read.query,
            "is_default": read.is_default,
            "notices": list(read.notices),
        },
        "factors": [
            {
                "key": keys[factor.pk],
                "name": shown(factor, "name", f"/factors/{number}/name"),
                "weight": WEIGHT_NAMES[result.weights[factor.pk]],
                "weight_value": result.weights[factor.pk],
                "assessments": [
                    {
                        "option": participant.framework.slug,
                        "text": assessment_text(
                            assessment, f"/factors/{number}/assessments/{place}/text"
                        ),
                    }
                    for place, (participant, assessment) in enumerate(assessments[number])
                ],
                "outcome": outcome(factor, slug_of),
                "winner": None if factor.is_tie else slug_of.get(factor.winner_id),
            }
            for number, factor in enumerate(factors)
        ],
        "result": {
            "summary": result.summary(),
            "flip_note": result.flip_note(),
            "close_call": result.close_call,
            "ties": [shown_text(factor, "name", language).text for factor in result.ties],
            "standings": [
                {
                    "option": standing.participant.framework.slug,
                    "score": standing.score,
                    "wins": standing.wins,
                }
                for standing in result.standings
            ],
        },
        "statistics": [
            {
                "value": statistic.value,
                "description": shown(statistic, "description", f"/statistics/{number}/description"),
                "source": shown(statistic, "source_name", f"/statistics/{number}/source"),
                "year": statistic.year,
                "url": statistic.source_url,
                "stale": statistic.is_stale(),
            }
            for number, statistic in enumerate(statistics)
        ],
    }
    for field in ("quick_verdict", "recommendation"):
        record[field] = editor_text(shown(comparison, field, f"/{field}"), page_url)
    return record


def iso_date_or_none(value):
    return value.isoformat() if value else None


def outcome(factor, slug_of):
    if factor.is_tie:
        return "tie"
    return "won" if factor.winner_id in slug_of else "undecided"


def editor_text(text, page_url):
    """The editor's Markdown as the page shows it: sanitised HTML, and that HTML
    written back as safe Markdown (see the module docstring)."""
    html = render_rich_text(text)
    return {"markdown": MarkdownWriter.convert(html, base_url=page_url), "html": html}


# Markdown.


def render_markdown(record):
    """The record as a Markdown decision record (ADR-like): context, factors,
    result, evidence, decision; in the record's language, every text that stands
    in for a missing translation followed by the page's "not yet translated" note."""
    options = {option["slug"]: option for option in record["options"]}
    page = record["page"]
    fallback = Fallbacks(record["untranslated"])
    title = fallback.mark(escape_text(record["title"]), "/title")
    lines = [gettext("# Decision record: %(title)s") % {"title": title}, ""]
    lines.append(gettext("- Date: %(date)s") % {"date": human_date(record["generated_on"])})
    language = get_language_info(record["language"])["name_local"]
    lines.append(gettext("- Language: %(language)s") % {"language": language})
    if page["content_date"]:
        lines.append(gettext("- Page as of: %(date)s") % {"date": human_date(page["content_date"])})
    state = STATE_LABELS[page["state"]]
    if page["preview"]:
        lines.append(gettext("- Page status: %(state)s (preview: not public)") % {"state": state})
    else:
        lines.append(gettext("- Page status: %(state)s") % {"state": state})
    if record["weights"]["query"]:
        lines.append(
            gettext("- This view, with your weights: %(link)s") % {"link": link(page["view_url"])}
        )
    lines.append(gettext("- The page: %(link)s") % {"link": link(page["url"])})
    lines += ["", gettext("## Context"), ""]
    if record["subtitle"]:
        lines += [fallback.mark(escape_text(record["subtitle"]), "/subtitle"), ""]
    lines += [gettext("Options compared:"), ""]
    for option in record["options"]:
        label = escape_text(option["label"])
        if option["recommended"]:
            label = gettext("%(option)s (recommended by the page)") % {"option": label}
        lines.append(f"- {label}")
    lines += ["", weights_sentence(record["factors"], fallback), ""]
    for notice in record["weights"]["notices"]:
        lines.append(gettext("> Note: %(notice)s") % {"notice": escape_text(notice)})
    if record["weights"]["notices"]:
        lines.append("")
    lines += [gettext("## Factors"), ""]
    lines += factor_table(record["factors"], record["options"], options, fallback)
    lines += ["", gettext("## Result"), "", escape_text(record["result"]["summary"]), ""]
    lines += [escape_text(record["result"]["flip_note"]), ""]
    if record["result"]["close_call"]:
        lines += [gettext("A close call: a single weight can change the result."), ""]
    if record["result"]["ties"]:
        ties = ", ".join(escape_text(name) for name in record["result"]["ties"])
        lines += [gettext("Ties: %(factors)s.") % {"factors": ties}, ""]
    lines += [gettext("## Evidence"), ""]
    if record["statistics"]:
        for number, statistic in enumerate(record["statistics"]):
            lines.append(f"{number + 1}. {citation(statistic, number, fallback)}")
    else:
        lines.append(gettext("No statistic on this page has a complete source yet."))
    for key, heading in (
        ("quick_verdict", gettext("Quick verdict")),
        ("recommendation", gettext("Decision")),
    ):
        if record[key]["markdown"]:
            lines += ["", f"## {heading}", "", record[key]["markdown"]]
            if fallback.has(f"/{key}"):
                lines += ["", fallback.note]
    return "\n".join(lines) + "\n"


class Fallbacks:
    """The record's texts shown in English for want of a published translation
    (its ``untranslated`` pointers), marked as the page marks them."""

    def __init__(self, pointers):
        self.pointers = set(pointers)
        self.note = f"({escape_text(untranslated_note())})"

    def has(self, pointer):
        return pointer in self.pointers

    def mark(self, text, pointer):
        """``text`` (already escaped), followed by the note when it is a fallback."""
        return f"{text} {self.note}" if text and self.has(pointer) else text


def human_date(iso):
    return dateformat.format(date.fromisoformat(iso), DATE_FORMAT)


def weights_sentence(factors, fallback):
    """How the reader weighed the factors, in words ("Edge Mobile: critical.")."""
    changed = [
        (number, factor)
        for number, factor in enumerate(factors)
        if factor["weight_value"] != DEFAULT_WEIGHT
    ]
    if not changed:
        return gettext("Weights: every factor counts the same (normal), as on the page.")
    parts = [
        f"{fallback.mark(escape_text(factor['name']), f'/factors/{number}/name')} "
        f"{WEIGHT_LABELS[factor['weight_value']]}"
        for number, factor in changed
    ]
    return gettext("Your weights: %(weights)s; every other factor normal.") % {
        "weights": "; ".join(parts)
    }


def factor_table(factors, option_list, options, fallback):
    header = [
        gettext("Factor"),
        gettext("Weight"),
        *(option["name"] for option in option_list),
        gettext("Winner"),
    ]
    lines = [
        "| " + " | ".join(escape_text(cell) for cell in header) + " |",
        "|" + " --- |" * len(header),
    ]
    for number, factor in enumerate(factors):
        texts = [
            fallback.mark(escape_text(a["text"]), f"/factors/{number}/assessments/{place}/text")
            if a["text"]
            else gettext("Not assessed yet")
            for place, a in enumerate(factor["assessments"])
        ]
        if factor["outcome"] == "tie":
            winner = gettext("Tie")
        elif factor["outcome"] == "won":
            winner = f"**{escape_text(options[factor['winner']]['name'])}**"
        else:
            winner = gettext("Not decided yet")
        name = fallback.mark(escape_text(factor["name"]), f"/factors/{number}/name")
        cells = [name, str(WEIGHT_LABELS[factor["weight_value"]]), *texts, winner]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def citation(statistic, number, fallback):
    """ "**78%** share of new papers. Papers with Code, 2026. <https://...>" """
    description = escape_text(statistic["description"])
    source = escape_text(statistic["source"])
    parts = [f"**{escape_text(statistic['value'])}** {description}."]
    if fallback.has(f"/statistics/{number}/description"):
        parts.append(fallback.note)
    parts.append(f"{source}, {statistic['year']}.")
    if fallback.has(f"/statistics/{number}/source"):
        parts.append(fallback.note)
    if statistic["stale"]:
        parts.append(gettext("From %(year)s: may be out of date.") % {"year": statistic["year"]})
    if safe_link_target(statistic["url"]):
        parts.append(link(statistic["url"]))
    return " ".join(parts)


# Escaping.

# Backslash-escaped wherever they appear: emphasis, code, links, strike-through,
# table cells, and the backslash itself.
INLINE_SPECIALS = re.compile(r"([\\`*_\[\]~|])")
# At the start of a line: a heading, a list item, a setext underline ("-", "=");
# an ordered list item ("1." or "1)") is escaped at its punctuation.
BLOCK_START = re.compile(r"^(\s*)([#+=-])")
ORDERED_START = re.compile(r"^(\s*\d+)([.)])")
HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_text(text):
    """Plain text that a Markdown viewer shows as typed, on one line."""
    return escape_line_start(escape_text_inline(str(text or "")).strip())


def escape_line_start(line):
    """A line that cannot start a heading, a list or a setext underline."""
    line = BLOCK_START.sub(r"\1\\\2", line)
    return ORDERED_START.sub(r"\1\\\2", line)


def safe_link_target(url):
    return bool(url) and url.lower().startswith(LINK_SCHEMES)


def encode_url(url):
    """A URL with every character that could end or break a Markdown link encoded:
    spaces, ``<``, ``>``, parentheses, backticks, ``|``, quotes, backslashes."""
    return quote(url, safe="/:?#@!$&*+,;=%-._~")


def link(url):
    """An autolink, ``<https://...>``, or nothing for a scheme not allowed."""
    return f"<{encode_url(url)}>" if safe_link_target(url) else ""


class MarkdownWriter(HTMLParser):
    """rich_text's sanitised HTML written back as Markdown.

    Knows exactly rich_text.ALLOWED_TAGS; anything else keeps only its text.
    Text is escaped with escape_text; code keeps its characters inside a code
    span or fence longer than any run of backticks in it.
    """

    BLOCKS = {"p", "ul", "ol", "li", "pre", "blockquote"}

    def __init__(self, base_url):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.root = ("root", {}, [])
        self.stack = [self.root]

    @classmethod
    def convert(cls, html, *, base_url):
        if not html:
            return ""
        writer = cls(base_url)
        writer.feed(html)
        writer.close()
        return writer.blocks(writer.root[2]).strip()

    def handle_starttag(self, tag, attrs):
        node = (tag, dict(attrs), [])
        self.stack[-1][2].append(node)
        if tag != "br":
            self.stack.append(node)

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1][2].append(data)

    # Writing.

    def blocks(self, children):
        """Block-level children, separated by blank lines; loose inline runs become paragraphs."""
        out, run = [], []
        for child in children:
            if isinstance(child, tuple) and child[0] in self.BLOCKS:
                if "".join(self.inline(run)).strip():
                    out.append(self.paragraph(run))
                run = []
                out.append(self.block(child))
            else:
                run.append(child)
        if "".join(self.inline(run)).strip():
            out.append(self.paragraph(run))
        return "\n\n".join(block for block in out if block)

    def block(self, node):
        tag, attrs, children = node
        if tag == "p" or tag == "li":
            return self.blocks(children) if tag == "li" else self.paragraph(children)
        if tag in ("ul", "ol"):
            return self.list(tag, attrs, children)
        if tag == "pre":
            return self.fence(self.text_of(children))
        # blockquote
        inner = self.blocks(children)
        return "\n".join(f"> {line}".rstrip() for line in inner.splitlines())

    def list(self, tag, attrs, children):
        start = attrs.get("start") or "1"
        start = int(start) if start.isdigit() else 1
        items = [child for child in children if isinstance(child, tuple) and child[0] == "li"]
        lines = []
        for number, item in enumerate(items, start=start):
            marker = f"{number}. " if tag == "ol" else "- "
            body = self.blocks(item[2]).splitlines() or [""]
            lines.append(marker + body[0])
            lines += [(" " * len(marker) + line) if line else "" for line in body[1:]]
        return "\n".join(lines)

    def paragraph(self, children):
        text = "".join(self.inline(children))
        # A hard line break (rich_text keeps the editor's single line breaks).
        lines = [escape_line_start(line.strip()) for line in text.split("\0")]
        return "  \n".join(line for line in lines if line)

    def inline(self, children):
        for child in children:
            if isinstance(child, str):
                yield escape_text_inline(child)
                continue
            tag, attrs, grandchildren = child
            inner = "".join(self.inline(grandchildren))
            if tag == "br":
                yield "\0"
            elif tag == "strong" and inner.strip():
                yield f"**{inner.strip()}**"
            elif tag == "em" and inner.strip():
                yield f"*{inner.strip()}*"
            elif tag == "code":
                yield self.code_span(self.text_of(grandchildren))
            elif tag == "a":
                yield self.anchor(attrs.get("href", ""), inner)
            else:
                yield inner

    def anchor(self, href, label):
        url = urljoin(self.base_url, href) if href else ""
        if not label.strip():
            label = escape_text(url)
        if not safe_link_target(url):
            return label
        return f"[{label.strip()}]({encode_url(url)})"

    def text_of(self, children):
        parts = []
        for child in children:
            if isinstance(child, str):
                parts.append(child)
            elif child[0] == "br":
                parts.append("\n")
            else:
                parts.append(self.text_of(child[2]))
        return "".join(parts)

    @staticmethod
    def code_span(text):
        text = re.sub(r"\s+", " ", text)
        ticks = "`" * (longest_run(text, "`") + 1)
        pad = " " if text.startswith("`") or text.endswith("`") else ""
        return f"{ticks}{pad}{text}{pad}{ticks}"

    @staticmethod
    def fence(text):
        ticks = "`" * max(3, longest_run(text, "`") + 1)
        return f"{ticks}\n{text.rstrip()}\n{ticks}"


def escape_text_inline(text):
    """escape_text for a piece of a paragraph: keeps the spaces at its ends (the
    words around emphasis), never escapes a block start (it is not one)."""
    text = re.sub(r"\s+", " ", text)
    text = "".join(HTML_ENTITIES.get(character, character) for character in text)
    text = INLINE_SPECIALS.sub(r"\\\1", text)
    # A "!" just before a link the writer adds would make it an image.
    return text[:-1] + "\\!" if text.endswith("!") else text


def longest_run(text, character):
    runs = re.findall(f"{re.escape(character)}+", text)
    return max((len(run) for run in runs), default=0)

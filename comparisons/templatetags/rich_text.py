"""``{{ value|rich_text }}``: editor-written Markdown, made safe.

Editors write CommonMark (markdown-it-py): ``**bold**``, ``*italic*``,
``[label](https://example.org)``, lists, ``code``, quotes and fenced code.
Two departures, both so that older text keeps its look: a single line break
stays a line break (the ``breaks`` option), and the HTML tags in ALLOWED_TAGS
typed by hand before Markdown still work.

What Markdown may not make here, and why:
- headings: the text sits under the page's own h2, so a ``#`` would break
  the outline; it stays a literal ``#``.
- images: the page loads nothing an editor links to; ``![alt](url)`` stays text
  with a link to the image.
- thematic breaks: ``---`` stays as typed rather than a rule in a two-line verdict.

Whatever the parser makes, nh3 then cleans with an allowlist, so anything else
(scripts, event handlers, styles, ``javascript:`` links) is removed, whoever
typed it. render() is the one function that does it: the public page and the
admin's live preview (admin_preview.py) both call it.

Where the same fields leave the site: the decision records
(comparisons/decision_record.py) take render()'s output, never the text as
typed, and write it back as Markdown, so they can say no more than the page.
The feed, the JSON-LD and the meta description use the meta description or
subtitle, which are plain text; the history pages show the source an editor typed.
"""

import re

import nh3
from django import template
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

register = template.Library()

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener nofollow"

# A URL's scheme as RFC 3986 spells it; a URL without one is relative.
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def link_allowed(url):
    """Markdown makes a link only to URL_SCHEMES (or a relative address); nh3 checks again.

    Refused here, ``[label](javascript:...)`` stays visible as typed, so the
    editor sees in the preview that it is not a link.
    """
    scheme = SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in URL_SCHEMES


MARKDOWN = MarkdownIt("commonmark", {"breaks": True, "html": True, "xhtmlOut": False}).disable(
    ["heading", "lheading", "image", "hr"]
)
MARKDOWN.validateLink = link_allowed


def render(text):
    """Editor text as sanitised HTML: Markdown, then nh3 with the allowlist."""
    if not text:
        return ""
    html = MARKDOWN.render(str(text).replace("\r\n", "\n").replace("\r", "\n").strip())
    return nh3.clean(
        html.strip(),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )


@register.filter
def rich_text(value):
    """Markdown made safe (see render); marked safe because nh3 has just sanitised it."""
    return mark_safe(render(value))  # noqa: S308 - nh3 has just sanitised it with an allowlist.

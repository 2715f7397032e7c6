"""``{{ value|rich_text }}``: editor-written text with light formatting, made safe.

Editors write plain text: a blank line starts a new paragraph, a line break
stays a line break, ``[label](https://example.org)`` makes a link, and the
tags in ALLOWED_TAGS may be typed as HTML. Everything goes through nh3 with an
allowlist, so anything else (scripts, event handlers, styles, ``javascript:``
links) is removed, whoever typed it.
"""

import html
import re

import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener nofollow"

PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# [label](url): a label without brackets, a url without spaces or parentheses.
MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\s]+)\)")
BLOCK_START = re.compile(r"<(p|ul|ol)[\s>]", re.IGNORECASE)


def _link(match):
    label, url = match.groups()
    return f'<a href="{html.escape(url)}">{label}</a>'


def _paragraph(block):
    if BLOCK_START.match(block):
        return block
    return "<p>" + block.replace("\n", "<br>\n") + "</p>"


@register.filter
def rich_text(value):
    """Paragraphs, line breaks, links and allowlisted tags; everything else removed."""
    if not value:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    text = MARKDOWN_LINK.sub(_link, text)
    blocks = [block.strip() for block in PARAGRAPH_BREAK.split(text) if block.strip()]
    cleaned = nh3.clean(
        "\n".join(_paragraph(block) for block in blocks),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just sanitised it with an allowlist.

"""``{% translated object "field" %}``: the one way a translated content field
reaches a page (comparisons/translation.py says what is translated and when).

The text is in the page's language when it has a published translation; else it
is the English text, inside an element with ``lang="en"`` and followed by a short
"not yet translated" note, so that it is never a key, never empty and never
read out with the wrong pronunciation. Options:

- ``markdown=True``: the editor's Markdown, rendered as rich_text does (a block);
- ``lines=True``: one list item per line (the "choose it when..." situations);
- ``highlight=terms`` or ``excerpt=terms``: search results' marked words;
- ``plain=True``: Markdown as plain text (with excerpt, for search results).

``object`` may also be a ShownText already chosen (search results), without a field.
Attributes (``content=""``, ``title=""``) cannot hold markup: they read the field
itself (``{{ comparison.title }}``), which falls back to English the same way.
"""

from django import template
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from comparisons import search
from comparisons.translation import ShownText, shown_text

from .rich_text import rich_text

register = template.Library()


def untranslated_note():
    return gettext("Not yet translated")


@register.simple_tag
def translated(
    instance, field="", *, markdown=False, lines=False, highlight=None, excerpt=None, plain=False
):
    """The field's text for this page, marked when it stands in for a translation."""
    shown = instance if isinstance(instance, ShownText) else shown_text(instance, field)
    text = shown.text or ""
    block = markdown or lines
    if plain:
        text = search.plain_text(text)
    if markdown:
        body = rich_text(text)
    elif lines:
        items = [line.strip() for line in text.splitlines() if line.strip()]
        body = format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items))
        )
    elif excerpt is not None:
        body = search.highlight(search.excerpt(text, excerpt), excerpt)
    elif highlight is not None:
        body = search.highlight(text, highlight)
    else:
        body = escape(text)
    if not shown.fallback:
        return mark_safe(body)  # noqa: S308 - escaped or sanitised just above.
    if block:
        return format_html(
            '<div lang="{}" class="untranslated">{}</div><p class="untranslated__note">{}</p>',
            shown.language,
            body,
            untranslated_note(),
        )
    return format_html(
        '<span lang="{}" class="untranslated">{}</span>'
        ' <small class="untranslated__note">({})</small>',
        shown.language,
        body,
        untranslated_note(),
    )


@register.filter
def shown(instance, field):
    """``{{ comparison|shown:"title" }}``: the field's plain text as {% translated %}
    chooses it, for attributes and <title>, where no markup can mark it."""
    return shown_text(instance, field).text

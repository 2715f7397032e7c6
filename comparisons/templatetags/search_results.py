"""``{{ text|highlight:terms }}`` and ``{{ text|excerpt:terms }}`` for the search results page.

Both only call comparisons/search.py, where highlighting escapes the text
before it marks the matched words.
"""

from django import template

from comparisons import search

register = template.Library()


@register.filter
def highlight(text, terms):
    """``text`` escaped, each word starting with one of ``terms`` marked."""
    return search.highlight(text, terms)


@register.filter
def excerpt(text, terms):
    """The part of ``text`` around its first match, highlighted."""
    return search.highlight(search.excerpt(text, terms), terms)


@register.filter
def plain_text(markdown):
    """Editor Markdown as the text a reader sees, without markup."""
    return search.plain_text(markdown)

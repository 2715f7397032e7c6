"""``{{ moment|saved_at }}`` and ``{{ version|version_name }}``: saves, named as history names them.

The format itself lives in comparisons.history (SAVED_AT_FORMAT), which the
restore messages and the revisions' comments use too.
"""

from django import template

from comparisons import history

register = template.Library()

register.filter("saved_at", history.saved_at)
register.filter("version_name", history.version_name)

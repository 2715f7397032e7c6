"""{% json_ld data %}: JSON-LD in a <script> element, safe whatever the data holds.

Django's json_script filter escapes the same way but always writes
type="application/json"; search engines read only type="application/ld+json".
"""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# As django.utils.html.json_script: no "<", ">" or "&" can end the element or
# start an HTML construct; JSON readers decode \u003c and friends back.
ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag
def json_ld(data):
    text = json.dumps(data, cls=DjangoJSONEncoder).translate(ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308

"""The numbers of the consultation rules, for templates and emails to say.

``{% load consultation_rules %}`` then ``{% reply_hours %}`` (the reply promise,
CONSULTATION_REPLY_HOURS) or ``{% retention_days %}`` (CONSULTATION_RETENTION_DAYS):
the pages never restate them.
"""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def reply_hours():
    return settings.CONSULTATION_REPLY_HOURS


@register.simple_tag
def retention_days():
    return settings.CONSULTATION_RETENTION_DAYS

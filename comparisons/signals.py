"""Signals only invalidate what is derived from content: the public page cache, the
HTTP cache in front (purges.py) and the stored search vectors (search.py); no
domain logic lives here."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from . import purges, search
from .caching import forget_content_version
from .models import Assessment, Comparison, Factor, Framework, Participant, Statistic

CONTENT_MODELS = (Framework, Comparison, Participant, Factor, Assessment, Statistic)


def content_changed(sender, instance, update_fields=None, **kwargs):
    # Forget now, and again once the change is committed: a page rendered by
    # another request between the two would otherwise keep the old content.
    forget_content_version()
    transaction.on_commit(forget_content_version)
    purges.content_changed(instance)
    search.content_changed(instance, update_fields)


def content_about_to_change(sender, instance, **kwargs):
    purges.content_about_to_change(instance)


def connect():
    for model in CONTENT_MODELS:
        post_save.connect(content_changed, sender=model, dispatch_uid=f"cache-{model.__name__}")
        post_delete.connect(
            content_changed, sender=model, dispatch_uid=f"cache-del-{model.__name__}"
        )
    for model in (Comparison, Participant):
        pre_save.connect(
            content_about_to_change, sender=model, dispatch_uid=f"cache-pre-{model.__name__}"
        )

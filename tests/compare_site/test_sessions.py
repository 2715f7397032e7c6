"""The database session store (compare_site.sessions): a new session is one INSERT,
and a key already in use is still refused, never overwritten."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compare_site.sessions import SessionStore

# Outside a test transaction, so that the statements counted are the store's own.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_session_is_written_in_one_statement():
    store = SessionStore()
    store["seen"] = True
    with CaptureQueriesContext(connection) as captured:
        store.save()
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["INSERT"]
    assert SessionStore(store.session_key)["seen"] is True


def test_a_key_in_use_is_refused_and_another_drawn(monkeypatch):
    first = SessionStore()
    first["owner"] = "ada"
    first.save()
    keys = iter([first.session_key, "k" * 32])
    store = SessionStore()
    monkeypatch.setattr(store, "_get_new_session_key", lambda: next(keys))
    store["owner"] = "grace"
    store.save()
    assert store.session_key == "k" * 32
    assert SessionStore(first.session_key)["owner"] == "ada"
    assert Session.objects.count() == 2

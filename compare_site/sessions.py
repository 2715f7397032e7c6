"""Database sessions without two round trips Django's own store makes (SESSION_ENGINE)."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.db import IntegrityError, router
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    """Django's database sessions, written at most once per state.

    A new key is not looked up first: the INSERT that creates a session
    refuses a key in use (create() then draws another), so the look-up cost a
    query for nothing. A save that would write exactly what this store wrote
    last is skipped: the booking view creates the visitor's new session inside
    the booking's transaction (one commit for both), and the session
    middleware's save at the end of the request has nothing left to write.
    A new session is one INSERT, without the savepoint (or, outside a
    transaction, the BEGIN and COMMIT) Django's store puts around it.
    """

    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def _state(self, must_create):
        return self.session_key, self.serializer().dumps(self._get_session(no_load=must_create))

    def save(self, must_create=False):
        if self.session_key is not None:
            state = self._state(must_create)
            if not must_create and state == getattr(self, "_written", None):
                return
        if must_create and self.session_key is not None:
            self._insert()
        else:
            super().save(must_create=must_create)
        self._written = self._state(must_create)

    def _insert(self):
        # Django's savepoint is there so that create() may draw another key after
        # a collision. Keys are 190 random bits: there is no collision to recover
        # from, and the primary key still refuses one (inside a transaction, on
        # PostgreSQL, the whole request then fails: nothing is half-saved).
        obj = self.create_model_instance(self._get_session(no_load=True))
        try:
            obj.save(force_insert=True, using=router.db_for_write(self.model, instance=obj))
        except IntegrityError:
            raise CreateError from None

    def delete(self, session_key=None):
        # One DELETE, where Django's store reads the row first.
        session_key = session_key or self.session_key
        if session_key is not None:
            self.model.objects.filter(session_key=session_key).delete()
        if session_key == self.session_key:
            self._written = None

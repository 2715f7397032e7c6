"""
The outbox's two halves: queueing an email (a row written inside the caller's
transaction, so nothing is saved without its email and nothing leaves before
the commit) and delivering what is due (never inside a transaction).

Each message is claimed with a lease in one commit, sent, and its result
saved in another, so a worker killed mid-send repeats at most that message.
The row itself (OutgoingEmail, its leases and its Message-ID) is in models.py
with the other models; the worker's tasks that call deliver_due are in tasks.py.
"""

import logging
import secrets

from django.conf import settings
from django.core.mail import mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import OutgoingEmail

logger = logging.getLogger(__name__)


def site_url(path):
    """An absolute link on the public address, as every link in an email is."""
    return settings.SITE_URL + path


def header_text(text):
    """Visitor text made safe for an email header: one line, and no "=?".

    "=?" opens an RFC 2047 encoded word, which Python's email package (before
    3.12.5) decodes and writes back raw: a name such as
    "=?utf-8?q?=0D=0ABcc:_x@evil.example?=" would add a Bcc header.
    """
    return " ".join(text.split()).replace("=?", "= ?")


def queue_email(*, to, template, context, request=None, ics="", in_reply_to="", language=None):
    """Queue one email per recipient, rendered from templates/consultations/email/;
    ``in_reply_to`` is the Message-ID of the thread it belongs to, if any."""
    return queue_emails(
        render_emails(
            to=to,
            template=template,
            context=context,
            request=request,
            ics=ics,
            in_reply_to=in_reply_to,
            language=language,
        )
    )


def render_emails(*, to, template, context, request=None, ics="", in_reply_to="", language=None):
    """One unsaved OutgoingEmail per recipient, for queue_emails(), written in
    ``language``: a visitor's (ConsultationRequest.language) for emails to them,
    the site's default (English) for staff, whatever language the page that
    queued it was in. Dates in the context (models.format_local) follow it too."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = header_text(
            render_to_string(f"consultations/email/{template}_subject.txt", context)
        )
        body = render_to_string(f"consultations/email/{template}.txt", context)
    return [
        OutgoingEmail(
            request=request,
            to=address,
            subject=subject,
            body=body,
            ics=ics,
            in_reply_to=in_reply_to,
        )
        for address in to
    ]


def queue_emails(emails):
    """Save rendered emails (render_emails) in one INSERT and wake a worker after the commit."""
    # Once per transaction, however many emails it queues. robust: the booking
    # is already saved, so a failed enqueue must not turn into an error page;
    # the scheduled sweep (tasks.deliver_outbox, every minute) sends it anyway.
    pending = transaction.get_connection().run_on_commit
    if not any(callback is wake_worker for _, callback, _ in pending):
        transaction.on_commit(wake_worker, robust=True)
    return OutgoingEmail.objects.bulk_create(emails)


def wake_worker():
    """Enqueue one pass over the outbox (tasks.deliver_outbox)."""
    from .tasks import deliver_outbox

    deliver_outbox.enqueue()


def deliver_due(*, now=None, should_stop=lambda: False):
    """One pass over the due outbox messages; returns (sent, not sent).

    One mail connection serves the whole pass (opened on the first send,
    opened again only after a failed one). Each message is claimed alone
    (OutgoingEmail.objects.claim_next), sent outside any transaction, and its
    result committed on its own, so a worker killed at any point leaves at
    most the message it was sending to be sent again when its lease runs out.
    ``should_stop`` is checked between messages (the worker's SIGTERM flag).
    The pass sends what is due at ``now`` (default: when it starts), and a
    failure in it is retried counting from then; leases use the real clock.
    """
    now = now or timezone.now()
    token = secrets.token_hex(16)
    sent = failed = 0
    connection = None
    try:
        while not should_stop():
            message = OutgoingEmail.objects.claim_next(token=token, now=now)
            # A failed message is due again only later, so the pass always ends.
            if message is None:
                break
            if connection is None:
                connection = mailers.default
            result = message.deliver(connection, now=now)
            if result is None:
                continue  # another worker took it over: it is theirs to send
            if result:
                sent += 1
            else:
                failed += 1
                # The connection may be broken: the next message gets a fresh one.
                close_quietly(connection)
                connection = None
    finally:
        if connection is not None:
            close_quietly(connection)
    return sent, failed


def close_quietly(connection):
    try:
        connection.close()
    except Exception:  # a connection that already broke may fail to close too
        logger.info("Closing the mail connection failed; it is dropped.", exc_info=True)

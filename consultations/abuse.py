"""
Keeping bots and floods off the public forms (the booking form, and the
readers' accuracy reports in comparisons/reports.py): hourly limits per client
address (compare_site.clients) and per email (in the shared cache), and the signed
render timestamp that tells a person's pace from a script's.

Both limits count mailboxes, not spellings: the per-email limit drops a plus
tag (victim+1@ reaches victim@'s inbox), after normalise_email.

When the cache is unavailable the limits are counted in the database
instead, over the last 60 minutes: per address, the bookings and the
additions awaiting their owner (each emails a link) sent from it; per email,
the emails queued to that mailbox. The database is shared by every process
and server, so the limits hold exactly (a counter in process memory would
multiply them by the number of processes), and what it counts is what abuse
costs: stored rows and the emails they send. Attempts refused by the form are not counted then; they
store and send nothing. The last 60 minutes always include the current
clock hour the cache counts in, so the fallback is never looser.

The render token is a random nonce and the time the form was shown, good for
one booking or report within a maximum age (the spent nonces are SpentFormToken
rows, written by the booking or the report).
"""

import hashlib
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from compare_site.cache import CacheUnavailable

from .models import (
    ConsultationRequest,
    OutgoingEmail,
    PendingAddition,
    SpentFormToken,
    normalise_email,
)

logger = logging.getLogger(__name__)

RENDER_SALT = "consultations.booking-form-rendered"
HOUR = 3600
# At most one "counting in the database" warning per process per this many seconds.
FALLBACK_WARNING_SECONDS = 60
_fallback_warned_at = None


def over_hourly_limit(key, limit, stored_since):
    """Count one more in this hour's bucket; True once the count passes ``limit``.

    ``stored_since(moment)`` counts the stored rows the limit is about since
    ``moment``, the count used instead when the cache is unavailable. Every
    public form's limit goes through here, each under its own ``key``.
    """
    bucket = f"consultations:rate:{key}:{int(time.time() // HOUR)}"
    # The hour's first attempt makes its bucket at 1: one round trip, where an
    # incr costs two more (Django's Redis backend checks EXISTS before INCRBY).
    # A cache that is down adds nothing, and the incr below says so.
    if cache.add(bucket, 1, timeout=HOUR):
        return 1 > limit
    try:
        count = cache.incr(bucket)
    except CacheUnavailable:
        return _over_limit_in_database(stored_since, limit)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=HOUR)
        count = 1
    return count > limit


def _over_limit_in_database(stored_since, limit):
    global _fallback_warned_at
    now = time.monotonic()
    if _fallback_warned_at is None or now - _fallback_warned_at >= FALLBACK_WARNING_SECONDS:
        _fallback_warned_at = now
        logger.warning(
            "Cache unavailable: booking rate limits are counted in the database "
            "(bookings, reports and emails of the last hour)."
        )
    since = timezone.now() - timedelta(seconds=HOUR)
    # This attempt is not stored yet: ``limit`` stored ones mean it is one too many.
    return stored_since(since) >= limit


def ip_over_limit(ip):
    def sent_from_ip_since(since):
        bookings = ConsultationRequest.objects.filter(client_ip=ip, received_at__gt=since)
        additions = PendingAddition.objects.filter(client_ip=ip, created_at__gt=since)
        return bookings.count() + additions.count()

    return over_hourly_limit(
        f"ip:{ip or 'unknown'}", settings.CONSULTATION_BOOKINGS_PER_IP_HOUR, sent_from_ip_since
    )


def mailbox(email):
    """The inbox an address reaches, for counting: normalised, its plus tag dropped."""
    local, _, domain = normalise_email(email).rpartition("@")
    return f"{local.partition('+')[0]}@{domain}"


def email_over_limit(email):
    inbox = mailbox(email)
    local, _, domain = inbox.rpartition("@")

    def queued_to_inbox_since(since):
        # Every booking and every addition emails the address it names once.
        spellings = Q(to=inbox) | Q(to__startswith=f"{local}+", to__endswith=f"@{domain}")
        return OutgoingEmail.objects.filter(spellings, created_at__gt=since).count()

    digest = hashlib.sha256(inbox.encode()).hexdigest()[:32]
    return over_hourly_limit(
        f"email:{digest}", settings.CONSULTATION_BOOKINGS_PER_EMAIL_HOUR, queued_to_inbox_since
    )


def sign_render_time():
    """A new signed render token: a random nonce (one booking each) and the time."""
    return signing.TimestampSigner(salt=RENDER_SALT).sign(secrets.token_urlsafe(16))


class RenderToken:
    """What a posted render token says. ``nonce`` is set only when it may book."""

    FORGED = "forged"  # not ours: a bot, dropped silently
    TOO_FAST = "too_fast"  # sent back within the minimum fill time: a bot, dropped silently
    EXPIRED = "expired"  # older than CONSULTATION_FORM_MAX_AGE: the visitor sends it again
    SPENT = "spent"  # booked once already: the visitor sends it again if they meant to

    def __init__(self, problem=None, nonce=None):
        self.problem = problem
        self.nonce = nonce

    @property
    def from_a_bot(self):
        return self.problem in (self.FORGED, self.TOO_FAST)

    @property
    def needs_resending(self):
        return self.problem in (self.EXPIRED, self.SPENT)


def read_render_token(token):
    """Check a posted render token's signature, fill time, maximum age and use."""
    signer = signing.TimestampSigner(salt=RENDER_SALT)
    try:
        nonce = signer.unsign(token, max_age=settings.CONSULTATION_FORM_MAX_AGE.total_seconds())
    except signing.SignatureExpired:
        return RenderToken(RenderToken.EXPIRED)
    except signing.BadSignature:
        return RenderToken(RenderToken.FORGED)
    if settings.CONSULTATION_MIN_FILL_SECONDS > 0:
        try:
            # Still within max_age means the form came back too fast.
            signer.unsign(token, max_age=settings.CONSULTATION_MIN_FILL_SECONDS)
        except signing.SignatureExpired:
            pass
        else:
            return RenderToken(RenderToken.TOO_FAST)
    if SpentFormToken.objects.filter(nonce=nonce).exists():
        return RenderToken(RenderToken.SPENT)
    return RenderToken(nonce=nonce)

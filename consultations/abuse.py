"""
Keeping bots and floods off the booking form: the client's address, hourly
limits per address and per email (in the shared cache), and the signed
render timestamp that tells a person's pace from a script's.

When the cache is unavailable the limits are counted in the database
instead: the bookings stored in the last 60 minutes from that address or for
that email. The database is shared by every process and server, so the limits
hold exactly (a counter in process memory would multiply them by the number of
processes), and what it counts is what abuse costs: stored requests and the
emails they send. Attempts refused by the form are not counted then; they
store and send nothing. The last 60 minutes always include the current
clock hour the cache counts in, so the fallback is never looser.

The render token is a random nonce and the time the form was shown, good for
one booking within a maximum age (the spent nonces are SpentFormToken rows,
written by the booking).
"""

import hashlib
import ipaddress
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import timezone

from compare_site.cache import CacheUnavailable

from .models import ConsultationRequest, SpentFormToken, normalise_email

logger = logging.getLogger(__name__)

RENDER_SALT = "consultations.booking-form-rendered"
HOUR = 3600
# At most one "counting in the database" warning per process per this many seconds.
FALLBACK_WARNING_SECONDS = 60
_fallback_warned_at = None


def client_ip(request):
    """REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies sit in front of the site.

    With N trusted proxies the client is the Nth X-Forwarded-For entry from the
    right (each proxy appends the address it saw); anything left of it could
    have been written by the client itself, so it is never used.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        entries = [e.strip() for e in request.headers.get("x-forwarded-for", "").split(",")]
        entries = [e for e in entries if e]
        if len(entries) >= proxies:
            address = entries[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _over_limit(key, limit, bookings):
    """Count one more in this hour's bucket; True once the count passes ``limit``.

    ``bookings`` are the stored requests the limit is about, counted instead
    when the cache is unavailable.
    """
    bucket = f"consultations:rate:{key}:{int(time.time() // HOUR)}"
    cache.add(bucket, 0, timeout=HOUR)
    try:
        count = cache.incr(bucket)
    except CacheUnavailable:
        return _over_limit_in_database(bookings, limit)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=HOUR)
        count = 1
    return count > limit


def _over_limit_in_database(bookings, limit):
    global _fallback_warned_at
    now = time.monotonic()
    if _fallback_warned_at is None or now - _fallback_warned_at >= FALLBACK_WARNING_SECONDS:
        _fallback_warned_at = now
        logger.warning(
            "Cache unavailable: booking rate limits are counted in the database "
            "(stored bookings of the last hour)."
        )
    since = timezone.now() - timedelta(seconds=HOUR)
    # This attempt is not stored yet: ``limit`` stored ones mean it is one too many.
    return bookings.filter(received_at__gt=since).count() >= limit


def ip_over_limit(ip):
    return _over_limit(
        f"ip:{ip or 'unknown'}",
        settings.CONSULTATION_BOOKINGS_PER_IP_HOUR,
        ConsultationRequest.objects.filter(client_ip=ip),
    )


def email_over_limit(email):
    digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]
    return _over_limit(
        f"email:{digest}",
        settings.CONSULTATION_BOOKINGS_PER_EMAIL_HOUR,
        ConsultationRequest.objects.filter(email=normalise_email(email)),
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

"""
Keeping bots and floods off the booking form: the client's address, hourly
limits per address and per email (in the shared cache), and the signed
render timestamp that tells a person's pace from a script's.
"""

import hashlib
import ipaddress
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from .models import normalise_email

RENDER_SALT = "consultations.booking-form-rendered"
HOUR = 3600


def client_ip(request):
    """REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies sit in front of the site.

    With N trusted proxies the client is the Nth X-Forwarded-For entry from the
    right (each proxy appends the address it saw); anything left of it could
    have been written by the client itself, so it is never used.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        entries = [e for e in entries if e]
        if len(entries) >= proxies:
            address = entries[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _over_limit(key, limit):
    """Count one more in this hour's bucket; True once the count passes ``limit``."""
    bucket = f"consultations:rate:{key}:{int(time.time() // HOUR)}"
    cache.add(bucket, 0, timeout=HOUR)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=HOUR)
        count = 1
    return count > limit


def ip_over_limit(ip):
    return _over_limit(f"ip:{ip or 'unknown'}", settings.CONSULTATION_BOOKINGS_PER_IP_HOUR)


def email_over_limit(email):
    digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]
    return _over_limit(f"email:{digest}", settings.CONSULTATION_BOOKINGS_PER_EMAIL_HOUR)


def sign_render_time():
    return signing.TimestampSigner(salt=RENDER_SALT).sign("booking-form")


def filled_by_a_person(token):
    """True when ``token`` is ours and was made at least the minimum fill time ago."""
    signer = signing.TimestampSigner(salt=RENDER_SALT)
    if settings.CONSULTATION_MIN_FILL_SECONDS <= 0:
        try:
            signer.unsign(token)
        except signing.BadSignature:
            return False
        return True
    try:
        # Still within max_age means the form came back too fast.
        signer.unsign(token, max_age=settings.CONSULTATION_MIN_FILL_SECONDS)
    except signing.SignatureExpired:
        return True
    except signing.BadSignature:
        return False
    return False

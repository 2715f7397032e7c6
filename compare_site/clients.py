"""Who is asking: the client's address, behind the proxies the site trusts.

One rule for the booking form's rate limits and the admin sign-in lockout
(AXES_CLIENT_IP_CALLABLE), so a visitor is the same visitor to both.
"""

import ipaddress

from django.conf import settings


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

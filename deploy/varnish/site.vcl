# The shared HTTP cache in front of gunicorn (Varnish 7, xkey from varnish-modules).
#
# It keeps what the app says a shared cache may keep (comparisons/caching.py,
# may_share): an anonymous GET or HEAD answered 200 with `s-maxage` in its
# Cache-Control and no cookie. Anything else passes: other methods, requests
# with a session, CSRF or messages cookie or Authorization, the admin, the
# consultation pages (booking form, request and status pages) in every language,
# the health checks, and the English pages for readers the app may send to German.
#
# - Time: s-maxage is the TTL; stale-while-revalidate is how long past it a page
#   is served while one background fetch refreshes it; stale-if-error (the
#   grace) how long past it a page is served when the backend cannot answer
#   (down, or answering 5xx). Error pages are never kept, but a 503 (the app's
#   "database down" page) is kept 1 s, so a crowd does not fall on a failing backend.
# - Purge: `PURGE /` with header `xkey: tag1 tag2` from the `purgers` ACL drops
#   every page carrying one of the tags, in every language (a page's tags name its
#   content, which both languages' addresses carry) (the app's `xkey` response header,
#   removed before responses reach visitors).
# - Concurrent misses for one page wait for a single backend fetch (request
#   coalescing, Varnish's default; nothing here turns it off).
#
# The backend and the ACL are in backend.vcl, included from varnishd's vcl_path.

vcl 4.1;

import std;
import xkey;

include "backend.vcl";

sub vcl_recv {
    if (req.restarts == 0) {
        # Our own markers, never taken from a client.
        unset req.http.X-Fresh-Only;
        unset req.http.X-Stale-Ok;
    }
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Purging is not allowed from this address."));
        }
        if (!req.http.xkey) {
            return (synth(400, "Name the tags to purge in the xkey header."));
        }
        set req.http.X-Purged = xkey.purge(req.http.xkey);
        return (synth(200, "Purged " + req.http.X-Purged + " objects."));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.http.Authorization
        || req.url ~ "^(/de)?/(admin|consultations)/"
        || req.url ~ "^/(livez|healthz|language/)"
        || req.http.Cookie ~ "(^|;\s*)(sessionid|csrftoken|messages)=") {
        return (pass);
    }
    # Languages (compare_site/languages.py): the address decides a page's language
    # (/de/... is German), so the URL in the hash keeps them apart. But an English
    # address may answer a reader who chose German (django_language=de), or who has
    # no choice yet and may prefer German (Accept-Language naming de before any en,
    # as browsers list them, best first), with a redirect: the app decides, so such
    # requests pass, and the English copy is only served to readers who chose
    # English, or whose browsers rank English first.
    if (req.url !~ "^/(de|static)(/|$)"
        && (req.http.Cookie ~ "(^|;\s*)django_language=de"
            || (req.http.Cookie !~ "(^|;\s*)django_language="
                && req.http.Accept-Language ~ "(?i)^\s*((?!en\b)[^,]*,\s*)*de\b"))) {
        return (pass);
    }
    # Other cookies (analytics, a choice of English) mean nothing to the page: one
    # copy for everybody. Accept-Language neither (the app varies on it for the
    # redirect alone): dropped, so its Vary keeps one copy, not one per header.
    unset req.http.Cookie;
    unset req.http.Accept-Language;
    if (req.http.X-Fresh-Only) {
        # Restarted from vcl_hit: the copy is too old to serve while the backend answers.
        set req.grace = 0s;
    }
    return (hash);
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        return (deliver);
    }
    # Stale, within stale-while-revalidate: serve it; Varnish refreshes it in the background.
    if (obj.ttl + std.duration(obj.http.X-Stale-While-Revalidate, 0s) > 0s) {
        return (deliver);
    }
    # Older (within stale-if-error): only while the backend cannot answer.
    if (req.http.X-Stale-Ok || !std.healthy(req.backend_hint)) {
        return (deliver);
    }
    set req.http.X-Fresh-Only = "1";
    return (restart);
}

sub vcl_backend_fetch {
    # Full fetches only: the app's 304s carry no tags or lifetime to refresh a copy with.
    if (!bereq.uncacheable) {
        unset bereq.http.If-None-Match;
        unset bereq.http.If-Modified-Since;
    }
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.status >= 500 && (bereq.is_bgfetch || bereq.http.X-Fresh-Only)) {
        # A stale copy exists: keep it, and serve it (vcl_synth), rather than the error.
        return (abandon);
    }
    if (beresp.status == 503) {
        set beresp.ttl = 1s;
        set beresp.grace = 0s;
        set beresp.keep = 0s;
        return (deliver);
    }
    if (beresp.status != 200
        || beresp.http.Set-Cookie
        || beresp.http.Cache-Control ~ "(?i)(private|no-store)"
        || !(beresp.http.Cache-Control ~ "(?i)s-maxage="
             || (beresp.http.Cache-Control ~ "(?i)public" && beresp.http.Cache-Control ~ "(?i)max-age="
                 && beresp.http.Cache-Control !~ "(?i)no-cache"))) {
        # Not for sharing: fetched for each request, not kept (hit-for-miss for 10 s).
        set beresp.uncacheable = true;
        set beresp.ttl = 10s;
        set beresp.grace = 0s;
        return (deliver);
    }
    # beresp.ttl is s-maxage already (or max-age, for static files).
    set beresp.http.X-Stale-While-Revalidate = "0s";
    if (beresp.http.Cache-Control ~ "stale-while-revalidate=[0-9]+") {
        set beresp.http.X-Stale-While-Revalidate = regsub(
            beresp.http.Cache-Control, "^.*stale-while-revalidate=([0-9]+).*$", "\1s");
    }
    set beresp.grace = std.duration(beresp.http.X-Stale-While-Revalidate, 0s);
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+") {
        set beresp.grace = std.duration(
            regsub(beresp.http.Cache-Control, "^.*stale-if-error=([0-9]+).*$", "\1s"), 0s);
    }
    set beresp.keep = 0s;
    return (deliver);
}

sub vcl_backend_error {
    if (bereq.is_bgfetch || bereq.http.X-Fresh-Only) {
        return (abandon);
    }
}

sub serve_stale_instead {
    # A fresh fetch failed, but vcl_hit had a stale copy: serve that (stale-if-error).
    if (resp.status >= 500 && req.http.X-Fresh-Only && req.restarts < 3) {
        unset req.http.X-Fresh-Only;
        set req.http.X-Stale-Ok = "1";
        return (restart);
    }
}

sub vcl_deliver {
    call serve_stale_instead;
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } else if (obj.hits > 0 && obj.ttl < 0s) {
        set resp.http.X-Cache = "HIT-STALE";
    } else if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset resp.http.xkey;
    unset resp.http.X-Stale-While-Revalidate;
}

sub vcl_synth {
    call serve_stale_instead;
    unset resp.http.xkey;
}

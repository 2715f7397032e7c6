# Where gunicorn listens and who may purge: the part of the configuration each
# machine sets (site.vcl includes it). `make serve-cached` and the tests write
# their own copy with the ports they use; deployment edits this one.

backend gunicorn {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
    # /livez answers without the database: a sick backend is one that is gone.
    # Healthy from the start, sick after 2 of the last 3 probes failed.
    .probe = {
        .url = "/livez";
        .interval = 1s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
        .initial = 2;
    }
}

# The app servers and task workers that send PURGE (HTTP_CACHE_PURGE_URLS).
acl purgers {
    "127.0.0.1";
    "::1";
}

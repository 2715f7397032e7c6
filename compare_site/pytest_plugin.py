"""Environment for test runs, loaded by pytest before Django starts (see pyproject.toml)."""

import os
import secrets

# Tests run with DEBUG off, as production does; give them a throwaway key.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
# The test client speaks plain HTTP; the HTTPS redirect has its own tests.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")


def pytest_configure(config):
    """Compile the translations once per run, before any worker or server starts
    (xdist workers have ``workerinput`` and leave it to the controller)."""
    if not hasattr(config, "workerinput"):
        from compare_site.translations import compile_messages

        compile_messages()

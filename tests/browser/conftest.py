"""
Fixtures for the tests that drive a real Chromium through Playwright.

The site is served by pytest-django's live server on 127.0.0.1 over the test
database. These tests need three things from outside Python: Debian's Chromium
(/usr/bin/chromium), the npm packages in package.json (axe-core and vnu-jar,
installed by `npm ci`) and Java to run the Nu HTML Checker. Where one is
missing the tests are skipped with a message saying how to install it, except
in CI (CI=true), where a missing tool fails the run.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import SCREENSHOT_DIR_KEY
from tests.support.missing import skip_or_fail_in_ci

ROOT = Path(settings.BASE_DIR)
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Date and time fields lay out their parts by the browser's language.
    "--lang=en-US",
]
WIDTHS = {"desktop": (1280, 800), "mobile": (390, 844)}


def missing_tools():
    """What the browser tests need but cannot find, each with how to install it."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(
            f"Chromium ({CHROMIUM}): apt-get install -y chromium (never `playwright install`)"
        )
    if not AXE_JS.exists() or not VNU_JAR.exists():
        missing.append("axe-core and vnu-jar (node_modules/): npm ci")
    if shutil.which("java") is None:
        missing.append("Java 17 for the Nu HTML Checker: apt-get install -y default-jre-headless")
    return missing


@pytest.fixture(scope="session")
def browser_tools():
    """Skip (or, in CI, fail) when Chromium, the npm checkers or Java are missing."""
    missing = missing_tools()
    if missing:
        skip_or_fail_in_ci(
            "Browser tests need: " + "; ".join(missing) + ". CI installs them (see .ci/run)."
        )


@pytest.fixture(scope="module")
def browser(browser_tools):
    """One headless Chromium per test module.

    Per module, not per session: while Playwright runs, its event loop makes
    every ORM call look async, so the tests outside this folder must run
    after it has stopped and without DJANGO_ALLOW_ASYNC_UNSAFE set.
    """
    from playwright.sync_api import sync_playwright

    # Sync Playwright keeps an event loop running in this thread, which makes
    # Django's ORM refuse calls from the test as "async unsafe". The tests make
    # their ORM calls one at a time, outside any coroutine, so that is safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()
    playwright.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _no_static_handler(application):
    return application


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server on 127.0.0.1, serving static files as production does.

    pytest-django wraps its server in Django's StaticFilesHandler, which looks
    files up through the finders and so answers 404 for the hashed names that
    pages link to (css/site.<hash>.css). Without that wrapper the request
    reaches WhiteNoise, which serves STATIC_ROOT (collected by tests/conftest.py
    before the server starts) exactly as in production.

    The session and CSRF cookies stay Secure, as in production: Chromium treats
    http://127.0.0.1 as a secure context and keeps Secure cookies there (the
    admin sign-ins in the journeys depend on it), so no setting is overridden.
    """
    from pytest_django.live_server_helper import LiveServer

    addr = os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "127.0.0.1"
    server = LiveServer(addr, start=False)
    server.thread.static_handler = _no_static_handler
    server.start()
    yield server
    server.stop()


@pytest.fixture
def open_page(browser):
    """Open a fresh page at a width ("desktop" or "mobile"); its context closes after the test.

    bypass_csp=True is for axe-core only: injecting it is an inline script that
    our Content Security Policy rightly refuses. Everything else runs with the
    policy enforced, as a visitor's browser does.
    """
    contexts = []

    def open_(width="desktop", *, bypass_csp=False, **options):
        viewport_width, viewport_height = WIDTHS[width]
        context = browser.new_context(
            viewport={"width": viewport_width, "height": viewport_height},
            bypass_csp=bypass_csp,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.csp_errors = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and page.csp_errors.append(message.text)
            ),
        )
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot_dir(request):
    folder = request.config.stash[SCREENSHOT_DIR_KEY]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def audit(open_page, screenshot_dir):
    """Check one page state at both widths: screenshots, axe-core, the Nu HTML Checker, the CSP.

    ``visit(page)`` brings a page to the state to check (it may click and type);
    it runs twice, once in a normal context for the screenshots and the HTML,
    once in a context that lets axe-core in. Every problem is reported together.
    """
    from .checks import axe_violations, describe_violations, html_errors

    def audit_(name, visit):
        page = open_page("desktop")
        documents = []
        page.on(
            "response",
            lambda response: (
                response.request.resource_type == "document"
                and response.frame == page.main_frame
                and not 300 <= response.status < 400
                and documents.append(response)
            ),
        )
        visit(page)
        problems = []
        for width, (viewport_width, viewport_height) in WIDTHS.items():
            page.set_viewport_size({"width": viewport_width, "height": viewport_height})
            page.screenshot(path=screenshot_dir / f"{name}-{viewport_width}.png", full_page=True)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                problems.append(f"[{width}] the page is {overflow}px wider than the screen")
        problems += [f"[CSP] {error}" for error in page.csp_errors]
        html = documents[-1].text()
        (screenshot_dir / f"{name}.html").write_text(html)
        problems += [f"[HTML] {error}" for error in html_errors(html)]

        axe_page = open_page("desktop", bypass_csp=True)
        visit(axe_page)
        for viewport_width, viewport_height in WIDTHS.values():
            axe_page.set_viewport_size({"width": viewport_width, "height": viewport_height})
            problems += describe_violations(axe_violations(axe_page), f"axe {viewport_width}px")
        assert not problems, f"{name}: problems found:\n" + "\n".join(problems)
        return page

    return audit_

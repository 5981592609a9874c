"""Browser fixtures: a real headless Chromium (playwright, sync API) against ``live_server``.

Screenshots go to ``test-artifacts/screenshots/`` (git-ignored; CI keeps it as an artifact).
Static files are served by pytest-django's live server through the staticfiles finders, so
no ``collectstatic`` is needed.

Browser tests (marked ``browser``) are skipped, with the reason shown, only when Chromium is
missing *and* this is not CI. With ``CI=true``, or whenever Chromium is installed, they run and
fail loudly if the browser cannot start: a CI run never passes by skipping them.
"""

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from orders.tests.stripe_server import stripe_api  # noqa: F401 - a fixture for every test here

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000


def in_ci() -> bool:
    """Return whether this run is CI (``CI=true``), where no test may be skipped for want of a
    tool."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a browser test before its fixtures start a server, when it cannot run here."""
    if "browser" in item.keywords and not Path(CHROMIUM).exists() and not in_ci():
        pytest.skip(
            f"needs Chromium at {CHROMIUM} (apt-get install chromium); with CI=true it fails"
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


@pytest.fixture
def chromium_browser(monkeypatch) -> Iterator:
    """Launch headless Chromium for one test.

    Playwright's sync API runs an asyncio loop in this thread; Django refuses ORM calls from a
    thread with a running loop unless ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set. The test's own ORM
    calls (seeding data, asserting) are synchronous and safe, so we allow them.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install chromium", pytrace=False)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            pytest.fail(f"Chromium at {CHROMIUM} could not start: {exc}", pytrace=False)
        try:
            yield instance
        finally:
            instance.close()
            # Database connections opened while Playwright's loop ran (seeding, assertions)
            # are not the ones pytest-django flushes and closes; close them here.
            connections.close_all()


@pytest.fixture
def screenshot(request) -> Callable:
    """Return ``shot(page, name)`` saving ``<test>--<name>.png`` under the artifacts folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = _slug(request.node.name)

    def shot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{prefix}--{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot


@pytest.fixture
def browser_page(
    django_db_setup, live_server, transactional_db, chromium_browser, screenshot
) -> Iterator:
    """A fresh browser page whose relative URLs go to the live server.

    ``django_db_setup`` comes before ``live_server`` so the test database is created before
    the server starts and dropped after it stops: on PostgreSQL a server connection left
    open would otherwise block dropping it.

    A screenshot of the final state is saved after every test (``--final``), so a failing
    journey leaves a picture of where it stopped. Browser console errors are collected in
    ``page.console_errors``.
    """
    context = chromium_browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None
    )
    try:
        yield page
    finally:
        try:
            screenshot(page, "final")
        finally:
            context.close()
            _wait_for_server_requests_to_finish()


def _wait_for_server_requests_to_finish(deadline_seconds: float = 5.0) -> None:
    """Wait (bounded) until the live server's request threads have ended.

    Each keep-alive connection of the closed browser is served by a thread that closes its
    database connection only when the socket closes; on PostgreSQL a lingering one would
    stop the flush and the final test-database drop.
    """
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        busy = [t for t in threading.enumerate() if "process_request_thread" in t.name]
        if not busy:
            return
        busy[0].join(timeout=0.1)

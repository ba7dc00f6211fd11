"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded
browser) against pytest-django's live server, at a phone's width and a desktop's.

Every test that asks for `page` runs twice (phone 390×844, desktop 1280×800), fails when the
page threw a JavaScript error or a static file was missing, and may save screenshots with
`shoot(page, name)` into /tmp/screens/ (FERMENTRACK_SCREENSHOTS changes the folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

# The people of the brewery (admin, brewer, guest) are the web tests' fixtures.
from web.conftest import (  # noqa: F401  (fixtures)
    PASSWORD,
    _fast_password_hashing,
    admin_user,
    brewer,
    guest,
    password,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
SCREENS = Path(os.environ.get("FERMENTRACK_SCREENSHOTS", "/tmp/screens"))

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
# between page actions are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

if not CHROMIUM.exists():
    if os.environ.get("CI"):  # CI installs Chromium: its absence there is a failure, not a skip
        raise RuntimeError(f"browser tests need Debian's Chromium at {CHROMIUM}")
    pytest.skip(
        f"browser tests need Debian's Chromium at {CHROMIUM} (apt install chromium)",
        allow_module_level=True,
    )


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory):
    """Collect static files once, as `fermentrack start` does, and serve them from there.

    This proves collectstatic accepts every file (the npm packages in static/vendor/ too);
    a missing vendor file fails the test run here instead of showing as a blank graph.
    """
    vendor = Path(django_settings.STATICFILES_DIRS[0]) / "vendor"
    for name in ("htmx.min.js", "uPlot.iife.min.js", "uPlot.min.css"):
        if not (vendor / name).exists():
            pytest.fail(f"{vendor / name} is missing: run `make setup` (npm ci)")
    root = tmp_path_factory.mktemp("static")
    old_root = django_settings.STATIC_ROOT
    django_settings.STATIC_ROOT = root
    call_command("collectstatic", interactive=False, verbosity=0)
    yield root
    django_settings.STATIC_ROOT = old_root


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def page(browser, viewport, live_server):
    """A fresh browser tab at the viewport's size; JavaScript errors and missing static files
    fail the test."""
    phone = viewport == "phone"
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],
        is_mobile=phone,
        has_touch=phone,
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="UTC",
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    # A refused page (403, 404) logs "Failed to load resource": tests check statuses
    # themselves, and missing static files are caught below.
    tab.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and problems.append(f"console: {message.text}")
        ),
    )
    tab.on(
        "response",
        lambda response: (
            "/static/" in response.url
            and response.status >= 400
            and problems.append(f"{response.status} for {response.url}")
        ),
    )
    tab.viewport_name = viewport
    tab.problems = problems
    yield tab
    context.close()
    assert not problems, "the page had problems:\n" + "\n".join(problems)


@pytest.fixture
def log_in(page, live_server):
    """log_in(user): give the tab a logged-in session without going through the form."""

    def log_in(user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return log_in


@pytest.fixture
def shoot(page):
    """shoot(name): a full-page screenshot as /tmp/screens/<name>-<phone|desktop>.png."""

    def shoot(name: str) -> Path:
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}-{page.viewport_name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture
def assert_fits_width(page):
    """Nothing makes the page scroll sideways (tables may scroll inside their own box)."""

    def check() -> None:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"the page is {overflow}px wider than the {page.viewport_name} screen"

    return check

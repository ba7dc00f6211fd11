"""Suite-wide test ordering."""

from __future__ import annotations


def pytest_collection_modifyitems(config, items) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an event loop running in the main thread for the rest of the
    session once it starts, and tests that call asyncio.run() cannot run after that.
    """
    items.sort(key=lambda item: "/tests/browser/" in str(item.path).replace("\\", "/"))

"""Fixtures for the whole-process controller tests: a home folder and the real web app in it."""

from __future__ import annotations

import pytest

from .controller_rig import WebApp, outside_the_web_app
from .fake_controller import short_home


@pytest.fixture(scope="module")
def home():
    with short_home() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FERMENTRACK_HOME", str(folder))
        yield folder


@pytest.fixture(scope="module")
def web(home):
    app = WebApp(home).start()
    app.open_dashboard()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(autouse=True, scope="package")
def client_outside_the_web_app():
    """These tests use client.py with no database of their own: the devices app's lookup of
    controllers elsewhere is taken out for this package's tests and put back after them."""
    with outside_the_web_app():
        yield

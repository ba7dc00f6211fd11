"""Fixtures for the whole-process controller tests: a home folder and the real web app in it."""

from __future__ import annotations

import pytest

from fermentrack.controller import client

from .controller_rig import WebApp
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
def client_without_the_web_apps_lookup():
    """These tests use client.py as the web app's processes do but with no database of their
    own: the remote-controller lookup the devices app installs when Django starts (in this
    test process too) is taken out for this package's tests and put back after them."""
    previous = client.use_remote_lookup(None)
    yield
    client.use_remote_lookup(previous)

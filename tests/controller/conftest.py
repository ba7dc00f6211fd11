"""Fixtures for the whole-process controller tests: a home folder and the real web app in it."""

from __future__ import annotations

import pytest

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

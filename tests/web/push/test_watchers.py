"""The `push` watcher runs only while at least one push target is active."""

from __future__ import annotations

import sys

import pytest

from fermentrack.procman.layout import PUSH_WATCHER
from fermentrack.push.services import Service
from fermentrack.web.push.models import PushTarget
from fermentrack.web.push.watchers import push_watchers

pytestmark = pytest.mark.django_db


def test_no_push_process_runs_without_targets():
    assert push_watchers() == []


def test_no_push_process_runs_while_every_target_is_switched_off():
    PushTarget.objects.create(name="off", service=Service.GENERIC, url="http://x/", active=False)
    assert push_watchers() == []


def test_an_active_target_brings_the_pusher_and_removing_it_takes_it_away():
    target = PushTarget.objects.create(name="on", service=Service.GENERIC, url="http://x/")
    (spec,) = push_watchers()
    assert (spec.name, spec.cmd, spec.args) == (
        PUSH_WATCHER,
        sys.executable,
        ("-m", "fermentrack.cli", "manage", "pusher"),
    )
    target.delete()
    assert push_watchers() == []

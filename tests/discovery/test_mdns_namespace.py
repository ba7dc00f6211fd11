"""Our firmware announces itself by mDNS and our browse finds it: for real, inside a network
namespace this test creates (`unshare -rn`), which also keeps the test off the real network."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("namespace_mdns.py")
PORT = 2399  # the namespace is new and empty: any port is free in it
NAME = "testfridge1"


@pytest.fixture(scope="module")
def network_namespace() -> list[str]:
    """The command prefix that runs a program in a new user and network namespace."""
    problem = None
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        problem = "the unshare (util-linux) and ip (iproute2) commands are needed"
    else:
        probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            problem = f"`unshare -rn true` failed: {probe.stderr.strip() or probe.returncode}"
    if problem:
        pytest.fail(
            f"mDNS discovery is tested inside a network namespace, and {problem}. Allow "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run "
            "the tests as root.",
            pytrace=False,
        )
    return ["unshare", "-rn"]


@pytest.fixture(scope="module")
def seen(network_namespace, tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("mdns-home")
    done = subprocess.run(
        [*network_namespace, sys.executable, str(SCRIPT), str(home), str(PORT), NAME],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, f"namespace script failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_our_firmware_is_found_by_mdns_with_its_port_and_txt(seen):
    assert seen["seen_after_s"] is not None, "the firmware was never seen"
    [found] = [found for found in seen["browser_found"] if found["name"] == NAME]
    assert found["port"] == PORT
    assert found["host"] == f"{NAME}.local"
    assert found["addresses"] == ["127.0.0.1"]
    assert found["txt"] == {
        "board": "Fermentrack-sim",
        "branch": "legacy",
        "version": "0.2.4",
        "revision": "0.15",
        "dialect": "esp",
    }


def test_a_firmware_started_with_no_mdns_is_not_announced(seen):
    assert [found["name"] for found in seen["browser_found"]] == [NAME]


def test_a_short_browse_finds_it_and_marks_the_device_already_added(seen):
    assert seen["browse_problem"] is None
    [found] = seen["browse"]
    assert found["used_by"] == "fridge-1"
    # No nss-mdns in the namespace: the link names the address, which this computer reaches.
    assert found["link"] == f"tcp://127.0.0.1:{PORT}"


def test_fermentrack_discover_prints_the_firmware_and_how_to_add_it(seen):
    assert seen["discover_returncode"] == 0
    out = seen["discover_stdout"]
    assert "Serial ports on this computer:" in out
    assert f"{NAME}  {NAME}.local (127.0.0.1) port {PORT}" in out
    assert (
        f"add with: fermentrack device add NAME --link 'tcp://127.0.0.1:{PORT}' --dialect esp"
        in (out)
    )


def test_a_stopping_firmware_withdraws_its_announcement(seen):
    assert seen["firmware_exit"] == 0
    assert seen["removed_seen"], "no goodbye was seen when the firmware stopped"
    assert seen["gone_after_s"] is not None and seen["gone_after_s"] < 2
    assert seen["stop_s"] < 5
    assert seen["browse_after_stop"] == []
    logged = seen["firmware_stderr"]
    assert f"advertising {NAME}._brewpi._tcp.local. by mDNS at 127.0.0.1 port {PORT}" in logged
    assert f"mDNS: withdrew {NAME}._brewpi._tcp.local." in logged

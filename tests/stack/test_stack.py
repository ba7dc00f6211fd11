"""The process stack, started for real: circusd, gunicorn on circus' socket, the spawner,
controllers and firmware processes, their logs; `start`, `stop`, `status`, `startifstopped`."""

from __future__ import annotations

import concurrent.futures
import json
import os
from pathlib import Path

import httpx

from .stack_rig import eventually, post_form

OWN_WATCHERS = ("Fermentrack", "brewpi-spawner", "circusd-stats")
SUPPORT = Path(__file__).resolve().parents[1] / "support"  # the libgpiod stand-in
STACK_LOGS = ("circusd.log", "fermentrack.log", "fermentrack-brewpi-spawner.log")


def test_quickstart_starts_the_stack_with_the_seeds_status_lines_and_a_logging_chamber(stack):
    output = stack.quickstart()

    assert "password" in output and stack.admin_password
    assert f"open http://127.0.0.1:{stack.web_port}/" in output
    statuses = stack.wait_active("dev-chamber-1", "fw-chamber-1")
    lines = stack.run("status").stdout.splitlines()
    assert lines[:3] == [f"{name}: active" for name in OWN_WATCHERS]
    assert sorted(statuses) == sorted([*OWN_WATCHERS, "dev-chamber-1", "fw-chamber-1"])
    assert eventually(lambda: stack.device_status("chamber-1").get("connected"), 60, "connected")
    assert eventually(lambda: stack.point_times("chamber-1"), 60, "a first log point stored")
    assert stack.browser().get("/").status_code == 200


def test_a_second_quickstart_finds_everything_in_place_and_creates_nothing(stack):
    stack.quickstart()
    again = stack.run("quickstart").stdout

    assert "password" not in again and "Added" not in again
    assert "circusd is already running" in again
    assert stack.query("SELECT COUNT(*) FROM devices_device") == [(1,)]


def test_every_log_is_written_under_its_name(stack):
    stack.quickstart()
    stack.wait_active("dev-chamber-1", "fw-chamber-1")

    def all_there():
        names = {path.name for path in stack.log.iterdir()}
        expected = {*STACK_LOGS}
        for watcher in ("dev-chamber-1", "fw-chamber-1"):
            expected |= {f"{watcher}-stdout.log", f"{watcher}-stderr.log"}
        return expected <= names

    eventually(all_there, 30, "every log file of interfaces.md §4")
    assert "Arbiter now waiting for commands" in (stack.log / "circusd.log").read_text()
    assert "Booting worker" in (stack.log / "fermentrack.log").read_text()
    assert "added dev-chamber-1" in (stack.log / "fermentrack-brewpi-spawner.log").read_text()
    eventually(
        lambda: "connected to" in (stack.log / "dev-chamber-1-stderr.log").read_text(),
        30,
        "the controller's log says it connected",
    )


def test_a_log_driven_past_2_mb_is_rotated_and_the_last_5_are_kept(stack):
    stack.quickstart()
    # Every 404 is logged by the web app: 4 KB lines until fermentrack.log turned over 6 times.
    path = "/" + "x" * 4000
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        for _ in range(3300):
            assert client.get(path).status_code == 404

    def rotated():
        return sorted(p.name for p in stack.log.glob("fermentrack.log*"))

    assert eventually(
        lambda: rotated() == [f"fermentrack.log{s}" for s in ("", ".1", ".2", ".3", ".4", ".5")],
        30,
        "fermentrack.log and 5 rotated files",
    )
    for name in rotated():
        assert (stack.log / name).stat().st_size <= 2 * 1024 * 1024 + 16 * 1024


def test_stop_ends_circusd_and_every_process_it_ran(stack):
    stack.quickstart()
    stack.wait_active("dev-chamber-1", "fw-chamber-1")
    assert stack.watcher_pids("fermentrack.cli controller")

    assert "stopped" in stack.run("stop").stdout

    assert stack.run("status", check=False).returncode == 3
    assert stack.run("status", check=False).stdout.strip() == "circusd: stopped"
    assert eventually(lambda: not stack.watcher_pids(""), 20, "no process of the stack left")


def test_startifstopped_leaves_a_running_circusd_alone(stack):
    stack.quickstart()
    pid = stack.circusd_pid()

    done = stack.run("startifstopped")

    assert done.stdout == ""
    assert stack.circusd_pid() == pid


def test_startifstopped_run_twice_at_once_starts_one_circusd(stack):
    stack.run("manage", "migrate")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: stack.run("startifstopped"), range(2)))

    assert sum("starting it" in done.stdout for done in runs) == 1
    assert len(stack.circusd_processes()) == 1


def test_a_circusd_that_is_alive_but_not_answering_is_not_started_again(stack):
    stack.quickstart()
    pid = stack.circusd_pid()
    os.kill(pid, 19)  # SIGSTOP: alive, but answers nothing
    try:
        done = stack.run("startifstopped", timeout=30)
        status = stack.run("status", check=False, timeout=30)
    finally:
        os.kill(pid, 18)  # SIGCONT

    assert done.stdout == "" and done.returncode == 0
    assert "not answering" in status.stdout
    assert len(stack.circusd_processes()) == 1


def add_device_on_the_page(browser, name: str, connection: str, dialect: str = "esp") -> None:
    """Add a device whose firmware runs on this computer, as the add page posts it."""
    answer = post_form(
        browser,
        "/devices/add/",
        {
            "name": name,
            "connection": connection,
            "dialect": dialect,
            "log_interval_s": "10",
            "temp_format": "C",
        },
    )
    assert answer.status_code == 302, answer.text[:500]


def test_adding_a_simulated_device_in_the_web_page_brings_up_its_watchers_and_deleting_it_ends_them(
    stack,
):
    stack.quickstart()
    browser = stack.browser()
    add_device_on_the_page(browser, "cellar-2", "simulated", dialect="avr")

    stack.wait_active("dev-cellar-2", "fw-cellar-2")
    assert eventually(lambda: stack.device_status("cellar-2").get("connected"), 60, "connected")
    assert eventually(lambda: stack.point_times("cellar-2"), 60, "points from the new chamber")

    post_form(browser, "/devices/cellar-2/delete/", {"confirm_name": "cellar-2"})

    eventually(
        lambda: not {"dev-cellar-2", "fw-cellar-2"} & set(stack.statuses()),
        30,
        "the watchers of the deleted device removed",
    )
    assert eventually(lambda: not stack.watcher_pids("cellar-2"), 20, "its processes ended")
    assert stack.statuses()["dev-chamber-1"] == "active"


def test_a_chamber_on_this_pis_pins_added_on_the_web_page_runs_our_firmware_on_its_probes(
    stack, tmp_path
):
    # This machine has no 1-Wire bus and no GPIO chip: a sysfs-shaped folder of two probes and
    # the libgpiod stand-in, named where a brewer names their pins, in fermentrack.env.
    w1, chip = tmp_path / "w1", tmp_path / "gpiochip0"
    for name, millidegrees in (("28-000000000001", "18500"), ("28-000000000002", "19250")):
        (w1 / name).mkdir(parents=True)
        (w1 / name / "temperature").write_text(millidegrees + "\n")
    chip.mkdir()
    stack.home.mkdir(exist_ok=True)
    (stack.home / "fermentrack.env").write_text(
        f"FERMENTRACK_W1_DEVICES={w1}\nFERMENTRACK_GPIO_CHIP={chip}\n"
        "FERMENTRACK_GPIO_OUTPUT_PINS=17,27\nFERMENTRACK_GPIO_DOOR_PIN=\n"
    )
    stack.env["PYTHONPATH"] = str(SUPPORT)
    stack.quickstart()
    browser = stack.browser()

    add_device_on_the_page(browser, "keezer", "pi_gpio")

    stack.wait_active("dev-keezer", "fw-keezer")
    assert eventually(lambda: stack.device_status("keezer").get("connected"), 60, "connected")
    page = eventually(
        lambda: (
            (text := browser.get("/devices/keezer/hardware/").text)
            and "2801000000000029" in text
            and text
        ),
        30,
        "the hardware page listing the bus's probes",
    )
    assert "2802000000000070" in page
    assert "18.5" in page  # the first probe's reading
    assert json.loads((chip / "levels.json").read_text()) == {"17": True, "27": True}
    assert eventually(lambda: stack.point_times("keezer"), 60, "points from the chamber")

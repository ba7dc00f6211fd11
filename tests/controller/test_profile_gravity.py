"""A profile that holds for the beer's gravity, end to end: the real web app, our firmware with a
simulated chamber whose Tilt reports through a simulated TiltBridge, and a real controller.

The firmware runs at --speed 7200 (two simulated hours a real second), so the default beer
(1.050, fermenting at 20 °C) falls below 1.030 about 45 simulated hours, some 25 real seconds,
after it starts; its Tilt posts every 900 simulated seconds, so once a real second. The
controller ticks its profile every 2 s (FERMENTRACK_PROFILE_TICK_S) rather than every 30.
"""

from __future__ import annotations

import time

from fermentrack.controller import client

from .controller_rig import ControllerProcess, Firmware, WebApp, dump, eventually

SPEED = 7200
HOLD_TO_1030 = {"until": "gravity_at_most", "gravity": 1.030, "max_s": 86400}
# Hold 20 °C until the hold ends; then ramp to 23 °C over 5 s and stay there a while.
POINTS = [(0, 20.0), (5, 23.0), (3600, 23.0)]


def start_chamber(home, web: WebApp, name: str, *, tilt: str | None = None):
    """The device, our firmware holding its beer at 20 °C (and posting a Tilt of colour
    `tilt` as TiltBridge sim-<name>, when given), and its controller, connected."""
    extra = ["--fit-chamber", "20"]
    if tilt is not None:
        extra += ["--tiltbridge", f"{web.url}/tiltbridge/", "--tilt-colour", tilt]
    firmware = Firmware(home, name, speed=SPEED, extra=extra)
    token = web.add_device(name, firmware.url)
    if tilt is not None:
        web.add_tiltbridge_tilt(name, tilt, f"sim-{name}")
    firmware.start()
    controller = ControllerProcess(
        home, name, token, web.url, link=firmware.url, FERMENTRACK_PROFILE_TICK_S="2"
    ).start()
    controller.wait_connected()
    return firmware, controller


def run_held_profile(web: WebApp, name: str, max_s: int) -> int:
    profile_id = web.start_profile_with_holds(name, POINTS, {0: HOLD_TO_1030 | {"max_s": max_s}})
    client.reload_config(name)  # as the profile's start page does
    client.set_mode(name, "profile")
    return profile_id


def beer_set(name: str) -> float:
    return client.status(name)["settings"]["beerSet"]


def annotations_since(web: WebApp, name: str, started: float) -> list[str]:
    return web.annotations(name, int(started) - 5, int(time.time()) + 5)


def test_a_hold_ends_when_the_tilt_reports_the_gravity_and_the_profile_carries_on(home, web):
    name = "held"
    firmware, controller = start_chamber(home, web, name, tilt="Purple")
    try:
        started = time.time()
        profile_id = run_held_profile(web, name, max_s=86400)
        began = f"Profile {profile_id}: holding at 20.0 °C until gravity ≤ 1.030 (at most 1 day)"
        eventually(
            lambda: began in annotations_since(web, name, started), 15, "the hold is annotated"
        )
        # Past the 5 s the ramp would have taken without the hold, the setting waits.
        time.sleep(max(0.0, started + 8 - time.time()))
        status = client.status(name)
        assert status["profile_progress"]["holding"] == {
            "index": 0,
            "since": status["profile"]["started_at"],
        }
        assert beer_set(name) == 20.0

        eventually(lambda: beer_set(name) == 23.0, 60, "the ramp after the hold reaches 23 °C")
        held_s = time.time() - started
        assert held_s > 10, "the simulated beer cannot reach 1.030 that soon"
        texts = annotations_since(web, name, started)
        reached = [text for text in texts if "reached after" in text]
        assert len(reached) == 1, dump(texts)
        assert reached[0].startswith(f"Profile {profile_id}: gravity 1.0")
        assert reached[0].endswith("; continuing")
        gravity = float(reached[0].split("gravity ")[1].split(" ")[0])
        # At this speed the beer falls some 2 points a real second: a tick notices it a few
        # points past the target.
        assert 1.015 <= gravity <= 1.030, reached[0]

        # The web app keeps the progress, so a restarted controller would not hold again.
        done = eventually(
            lambda: (progress := web.profile_progress(name))["holds"] and progress,
            25,
            "the web app keeps the hold's progress",
        )
        assert done["id"] == profile_id and done["holding"] is None
        assert [hold["index"] for hold in done["holds"]] == [0]
        assert 0 < done["holds"][0]["held_s"] <= held_s + 2
    finally:
        stopped = controller.stop()
        firmware.stop()  # whatever the controller did
        assert stopped == 0
    log = controller.log()
    assert "no gravity readings for the profile's hold" not in log


def test_a_hold_whose_hydrometer_is_silent_ends_at_its_time_limit_across_a_restart(home, web):
    name = "silent"
    firmware, controller = start_chamber(home, web, name)  # no Tilt posts at all
    try:
        started = time.time()
        profile_id = run_held_profile(web, name, max_s=15)
        eventually(
            lambda: web.profile_progress(name).get("holding"), 15, "the web app keeps the hold"
        )
        # A controller restarted in the middle of the hold takes it up where it was.
        assert controller.stop() == 0
        controller.start().wait_connected()
        eventually(lambda: beer_set(name) == 23.0, 40, "the ramp after the hold reaches 23 °C")
        assert time.time() - started >= 15 + 4, "the hold lasts its 15 s, then the 5 s ramp"
        ended = (
            f"Profile {profile_id}: hold ended at its time limit (no gravity for 1 hour); "
            "continuing"
        )
        texts = eventually(
            lambda: ended in (texts := annotations_since(web, name, started)) and texts,
            15,
            "the end of the hold is annotated",
        )
        assert len([text for text in texts if "holding at 20.0 °C" in text]) == 1, dump(texts)
        assert not [text for text in texts if "reached after" in text], dump(texts)
        assert client.status(name)["profile_progress"]["holds"] == [{"index": 0, "held_s": 15}]
    finally:
        stopped = controller.stop()
        firmware.stop()  # whatever the controller did
        assert stopped == 0

"""Alerts end to end: the real web app, our firmware with a simulated chamber at --speed, a real
controller, and the real `fermentrack manage alerter` checking every second, sending to a local
SMTP sink and a local HTTP recorder (webhook and ntfy).

The beer's band: the beer is held at 20 °C, inside 18–22 °C; set to 26 °C it leaves the band
within seconds at this speed, and the rule (15 s) fires once; set back to 20 °C, it recovers
once. The controller: stopped, it is silent, and the rule (15 s) fires once; started again, it
recovers once. Every alert reaches every channel, and the history records each delivery.

The hydrometer rules run on a second chamber whose Tilt reports through our firmware's simulated
TiltBridge (no controller: the Tilt's posts go from the firmware to the web app), at --speed
14400 (four simulated hours a real second) so the default beer (1.050 to 1.010, 95 % done after
three days at 20 °C) settles within half a minute; see that test's docstring.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time

import pytest

from controller.controller_rig import (
    FERMENTRACK,
    ControllerProcess,
    Firmware,
    WebApp,
    environment,
    eventually,
    outside_the_web_app,
)
from controller.fake_controller import short_home
from fermentrack.controller import client

from .recorders import HttpRecorder, SmtpSink

SPEED = 7200
NAME = "alerted"
RULE_S = 15


@pytest.fixture(autouse=True, scope="module")
def client_outside_the_web_app():
    """This test process talks to the chamber's controller as an onlooker, not as the web app."""
    with outside_the_web_app():
        yield


@pytest.fixture
def home():
    with short_home() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FERMENTRACK_HOME", str(folder))
        yield folder


@pytest.fixture
def services():
    recorder, sink = HttpRecorder(), SmtpSink()
    try:
        yield recorder, sink
    finally:
        recorder.stop()
        sink.stop()


@contextlib.contextmanager
def running_alerter(home):
    """The real `fermentrack manage alerter`, checking every second, until the block ends."""
    with open(home / "alerter.log", "ab") as log:
        alerter = subprocess.Popen(
            [*FERMENTRACK, "manage", "alerter"],
            env=environment(home, FERMENTRACK_ALERTS_CHECK_S="1"),
            stdout=log,
            stderr=log,
        )
    try:
        yield alerter
    finally:
        if alerter.poll() is None:
            alerter.terminate()
            alerter.wait(10)


@pytest.fixture
def stack(home, services):
    """The web app, the chamber (firmware + controller, connected) and the alerter."""
    recorder, sink = services
    web = WebApp(home).start()
    firmware = Firmware(home, NAME, speed=SPEED, extra=["--fit-chamber", "20"])
    controller = None
    try:
        token = web.add_device(NAME, firmware.url, interval=10)
        firmware.start()
        controller = ControllerProcess(home, NAME, token, web.url, link=firmware.url).start()
        controller.wait_connected()
        add_rules(web, recorder, sink)
        with running_alerter(home):
            yield web, controller
    finally:
        if controller is not None:
            controller.stop()
        firmware.stop()
        web.stop()


def add_rules(web: WebApp, recorder: HttpRecorder, sink: SmtpSink) -> None:
    channels = {
        "email_to": "brewer@example.com",
        "webhook_url": f"{recorder.url}/hook",
        "ntfy_server": recorder.url,
        "ntfy_topic": "cellar",
    }
    web.manage_shell(
        "from fermentrack.web.alerts.models import AlertRule, MailSettings\n"
        "from fermentrack.web.devices.models import Device\n"
        f"MailSettings.objects.update_or_create(pk=1, defaults=dict(host='127.0.0.1', "
        f"port={sink.port}, security='none', from_address='brewery@example.com'))\n"
        f"device = Device.objects.get(name={NAME!r})\n"
        f"AlertRule.objects.create(kind='temperature_band', device=device, duration_s={RULE_S},"
        f" low=18.0, high=22.0, **{channels!r})\n"
        f"AlertRule.objects.create(kind='controller_silent', device=device, "
        f"duration_s={RULE_S}, **{channels!r})\n"
    )


def hooks(recorder: HttpRecorder, kind: str) -> list[str]:
    """The states the webhook received for rules of `kind`, in order."""
    bodies = [json.loads(request.body) for request in recorder.on("/hook")]
    return [body["state"] for body in bodies if body["kind"] == kind]


def history(web: WebApp) -> list[dict]:
    answer = web.manage_shell(
        "import json\n"
        "from fermentrack.web.alerts.models import AlertEvent\n"
        "print(json.dumps([dict(kind=e.rule.kind, event=e.kind, message=e.message, "
        "deliveries=[(d['channel'], d['status']) for d in e.deliveries]) "
        "for e in AlertEvent.objects.order_by('ts', 'id')]))"
    )
    return json.loads(answer.strip().splitlines()[-1])


def test_band_and_silence_alerts_fire_once_and_recover_once_on_every_channel(stack, services):
    web, controller = stack
    recorder, sink = services
    band, silent = "temperature_band", "controller_silent"

    client.set_mode(NAME, "beer_constant", 26.0)
    eventually(lambda: hooks(recorder, band) == ["firing"], 60, "the band alert fires")
    client.set_mode(NAME, "beer_constant", 20.0)
    eventually(lambda: hooks(recorder, band) == ["firing", "recovered"], 60, "it recovers")

    assert controller.stop() == 0
    eventually(lambda: hooks(recorder, silent) == ["firing"], 40, "the silence alert fires")
    controller.start().wait_connected()
    eventually(lambda: hooks(recorder, silent) == ["firing", "recovered"], 30, "it recovers")

    # Once each, on every channel, with the values in words; and the history says so.
    assert hooks(recorder, band) == ["firing", "recovered"]
    ntfy = [request.body.decode() for request in recorder.on("/cellar")]
    mails = [mail.body for mail in sink.messages]
    events = history(web)
    messages = [event["message"] for event in events]
    assert ntfy == messages and mails == messages, (ntfy, mails, messages)
    assert [(e["kind"], e["event"]) for e in events] == [
        (band, "fired"),
        (band, "recovered"),
        (silent, "fired"),
        (silent, "recovered"),
    ]
    assert messages[0].startswith(f"Beer temperature of {NAME} has been 2")
    assert ", above 22.0 °C, for " in messages[0]
    assert messages[1].startswith(f"Beer temperature of {NAME} is back within 18.0–22.0 °C: ")
    assert messages[2].startswith(f"Controller {NAME} has sent no readings for ")
    assert messages[3].startswith(f"Controller {NAME} is sending readings again")
    for event in events:
        assert event["deliveries"] == [["email", "sent"], ["webhook", "sent"], ["ntfy", "sent"]]
    assert {mail.subject.split(":")[0] for mail in sink.messages} == {"Alert", "Recovered"}


# -- the hydrometer rules: a Tilt in a simulated chamber ------------------------------------------

TILT_SPEED = 14400  # simulated seconds a real second
TILT_NAME = "tilted"
TILT = "Purple Tilt"
SILENT_S = 8  # the Tilt posts once a real second
STABLE_S = 12  # 48 simulated hours; a gap of 2 s in the posts still covers it
TOLERANCE_POINTS = 2.0  # the Tilt's jitter alone is ±0.5 points


@pytest.fixture
def tilt_stack(home, services):
    """The web app, a chamber whose firmware posts its Tilt as a TiltBridge, and the alerter
    watching that Tilt with the hydrometer-silent and gravity-stable rules."""
    recorder, sink = services
    web = WebApp(home).start()
    firmware = Firmware(
        home,
        TILT_NAME,
        speed=TILT_SPEED,
        extra=[
            *("--fit-chamber", "20"),
            *("--tiltbridge", f"{web.url}/tiltbridge/", "--tilt-colour", "Purple"),
        ],
    )
    try:
        web.add_device(TILT_NAME, firmware.url)
        web.add_tiltbridge_tilt(TILT_NAME, "Purple", f"sim-{TILT_NAME}")
        firmware.start()
        add_tilt_rules(web, recorder, sink)
        with running_alerter(home):
            yield web, firmware
    finally:
        firmware.stop()
        web.stop()


def add_tilt_rules(web: WebApp, recorder: HttpRecorder, sink: SmtpSink) -> None:
    channels = {
        "email_to": "brewer@example.com",
        "webhook_url": f"{recorder.url}/hook",
        "ntfy_server": recorder.url,
        "ntfy_topic": "cellar",
    }
    web.manage_shell(
        "from fermentrack.web.alerts.models import AlertRule, MailSettings\n"
        "from fermentrack.web.gravity.models import GravitySensor\n"
        f"MailSettings.objects.update_or_create(pk=1, defaults=dict(host='127.0.0.1', "
        f"port={sink.port}, security='none', from_address='brewery@example.com'))\n"
        f"tilt = GravitySensor.objects.get(name={TILT!r})\n"
        f"AlertRule.objects.create(kind='hydrometer_silent', sensor=tilt, "
        f"duration_s={SILENT_S}, **{channels!r})\n"
        f"AlertRule.objects.create(kind='gravity_stable', sensor=tilt, duration_s={STABLE_S},"
        f" tolerance_points={TOLERANCE_POINTS}, **{channels!r})\n"
    )


def tilt_readings(web: WebApp) -> list[tuple[int, float]]:
    """(ts, gravity) of every reading the web app stored from the Tilt, oldest first."""
    answer = web.manage_shell(
        "import json\n"
        "from fermentrack.web.gravity.models import GravityReading\n"
        f"print(json.dumps(list(GravityReading.objects.filter(sensor__name={TILT!r})"
        ".order_by('ts').values_list('ts', 'gravity'))))"
    )
    return [(ts, gravity) for ts, gravity in json.loads(answer.strip().splitlines()[-1])]


def event_times(web: WebApp) -> list[int]:
    answer = web.manage_shell(
        "import json\n"
        "from fermentrack.web.alerts.models import AlertEvent\n"
        "events = AlertEvent.objects.order_by('ts', 'id')\n"
        "print(json.dumps(list(events.values_list('ts', flat=True))))"
    )
    return json.loads(answer.strip().splitlines()[-1])


def test_hydrometer_alerts_fire_once_when_the_beer_settles_and_when_the_tilt_goes_quiet(
    tilt_stack, services
):
    """The gravity-stable rule stays quiet while the simulated beer ferments (its gravity falls
    from 1.050 by up to 4 points a real second) and fires once when it has settled near 1.010.
    A settled beer does not start fermenting again, so the chamber cannot drive that rule's
    recovery: it is covered with database rows by test_alerter.py
    (test_a_settled_gravity_that_moves_again_recovers_once_from_the_rows) and in pure logic by
    test_rules.py (test_a_gravity_that_stops_falling_fires_once_and_recovers_once_when_...).
    The hydrometer-silent rule fires once when the firmware (and so its TiltBridge) stops, and
    recovers once when it starts again; the settled gravity rule stays firing across the gap."""
    web, firmware = tilt_stack
    recorder, sink = services
    stable, silent = "gravity_stable", "hydrometer_silent"
    started = time.monotonic()

    eventually(lambda: hooks(recorder, stable) == ["firing"], 60, "the gravity-stable alert fires")
    settled_after = time.monotonic() - started
    assert hooks(recorder, silent) == [], "a Tilt posting once a second is not silent"

    firmware.stop()
    eventually(lambda: hooks(recorder, silent) == ["firing"], 30, "the silent alert fires")
    firmware.start()
    eventually(lambda: hooks(recorder, silent) == ["firing", "recovered"], 30, "it recovers")

    # It fired only once the beer had settled, not while it fell: by then the gravity had
    # fallen from about 1.050 to within 3 points of its final 1.010.
    readings = tilt_readings(web)
    fired_at = event_times(web)[0]
    before = [gravity for ts, gravity in readings if ts <= fired_at]
    assert before[0] >= 1.045 and before[-1] <= 1.013, (before[0], before[-1])

    # Once each, on every channel, with the values in words; and the history says so.
    assert hooks(recorder, stable) == ["firing"]
    ntfy = [request.body.decode() for request in recorder.on("/cellar")]
    mails = [mail.body for mail in sink.messages]
    events = history(web)
    messages = [event["message"] for event in events]
    assert ntfy == messages and mails == messages, (ntfy, mails, messages)
    assert [(e["kind"], e["event"]) for e in events] == [
        (stable, "fired"),
        (silent, "fired"),
        (silent, "recovered"),
    ]
    stayed_at = float(messages[0].split(" has stayed at ")[1].split(" ")[0])
    assert 1.009 <= stayed_at <= 1.013, messages[0]
    assert messages[0].endswith(
        f"(within ±2 points) for {STABLE_S} seconds: fermentation looks done."
    ), messages[0]
    assert messages[1].startswith(f"Hydrometer {TILT} has not been heard from for "), messages[1]
    assert messages[2] == f"Hydrometer {TILT} is reporting again."
    for event in events:
        assert event["deliveries"] == [["email", "sent"], ["webhook", "sent"], ["ntfy", "sent"]]
    print(f"gravity stable fired {settled_after:.0f} s after the alerter started")

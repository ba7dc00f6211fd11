"""Alerts end to end: the real web app, our firmware with a simulated chamber at --speed, a real
controller, and the real `fermentrack manage alerter` checking every second, sending to a local
SMTP sink and a local HTTP recorder (webhook and ntfy).

The beer's band: the beer is held at 20 °C, inside 18–22 °C; set to 26 °C it leaves the band
within seconds at this speed, and the rule (15 s) fires once; set back to 20 °C, it recovers
once. The controller: stopped, it is silent, and the rule (15 s) fires once; started again, it
recovers once. Every alert reaches every channel, and the history records each delivery.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from controller.controller_rig import (
    FERMENTRACK,
    ControllerProcess,
    Firmware,
    WebApp,
    environment,
    eventually,
)
from controller.fake_controller import short_home
from fermentrack.controller import client

from .recorders import HttpRecorder, SmtpSink

SPEED = 7200
NAME = "alerted"
RULE_S = 15


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


@pytest.fixture
def stack(home, services):
    """The web app, the chamber (firmware + controller, connected) and the alerter."""
    recorder, sink = services
    web = WebApp(home).start()
    firmware = Firmware(home, NAME, speed=SPEED, extra=["--fit-chamber", "20"])
    controller = None
    alerter = None
    try:
        token = web.add_device(NAME, firmware.url, interval=10)
        firmware.start()
        controller = ControllerProcess(home, NAME, token, web.url, link=firmware.url).start()
        controller.wait_connected()
        add_rules(web, recorder, sink)
        with open(home / "alerter.log", "ab") as log:
            alerter = subprocess.Popen(
                [*FERMENTRACK, "manage", "alerter"],
                env=environment(home, FERMENTRACK_ALERTS_CHECK_S="1"),
                stdout=log,
                stderr=log,
            )
        yield web, controller
    finally:
        if alerter is not None and alerter.poll() is None:
            alerter.terminate()
            alerter.wait(10)
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

"""MQTT over TLS with a broker that has its own certificate authority: a real mosquitto speaking
only TLS with throwaway certificates (certificates.py), the real `fermentrack manage
mqtt_bridge`, and what the settings page is told when the handshake fails."""

from __future__ import annotations

import json
import stat
import subprocess
import uuid

from controller.controller_rig import FERMENTRACK, environment, eventually
from controller.fake_controller import short_home
from fermentrack.web.mqtt.bridge import Bridge, ca_file_path
from fermentrack.web.mqtt.models import MqttSettings

from .mqtt_broker import Listener
from .test_bridge_end_to_end import BridgeProcess


def settings_for(port: int, *, host: str = "127.0.0.1", ca: str = "") -> MqttSettings:
    return MqttSettings(enabled=True, host=host, port=port, tls=True, ca_certificate=ca)


def test_a_certificate_for_another_host_name_is_named_as_the_cause(
    tls_broker, tls_files, tmp_path, monkeypatch
):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    _, elsewhere_port = tls_broker
    bridge = Bridge(settings_for(elsewhere_port, ca=tls_files.authority.pem()))
    assert bridge._why_unreachable() == (
        f"TLS with the broker at 127.0.0.1:{elsewhere_port} failed: the broker's certificate is "
        "for a different host name than 127.0.0.1 (give the host name or address the "
        "certificate was made for)"
    )


def test_without_a_ca_certificate_the_systems_authorities_do_not_trust_a_private_ca(
    tls_broker, tmp_path, monkeypatch
):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    broker, _ = tls_broker
    bridge = Bridge(settings_for(broker.port, host="localhost"))
    assert bridge.ca_path is None and not ca_file_path().exists()
    assert "not signed by an authority this computer trusts (for a broker with its own CA, " in (
        bridge._why_unreachable()
    )


def test_the_ca_certificate_is_written_to_run_readable_by_the_bridge_only(
    tls_files, tmp_path, monkeypatch
):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    bridge = Bridge(settings_for(8883, ca=tls_files.authority.pem()))
    path = tmp_path / "run" / "mqtt-ca.pem"
    assert bridge.ca_path == str(path)
    assert path.read_text() == tls_files.authority.pem()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["mqtt-ca.pem"]  # no leftovers


def test_a_broken_ca_certificate_in_the_database_is_reported_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    bridge = Bridge(settings_for(8883, ca="-----BEGIN CERTIFICATE-----\nnot base64\n"))
    assert bridge.setup_problem.startswith("cannot set up TLS with the broker's CA certificate: ")


def manage(home, *args: str) -> str:
    done = subprocess.run(
        [*FERMENTRACK, "manage", *args],
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def set_ca(home, pem: str) -> None:
    manage(
        home,
        "shell",
        "-c",
        "from fermentrack.web.mqtt.models import MqttSettings\n"
        f"MqttSettings.objects.filter(pk=1).update(ca_certificate={pem!r})",
    )


def last_error(home) -> str:
    answer = manage(
        home,
        "shell",
        "-c",
        "import json\nfrom fermentrack.web.mqtt.models import MqttSettings\n"
        "s = MqttSettings.load()\nprint(json.dumps([s.connected, s.last_error]))",
    )
    connected, error = json.loads(answer.strip().splitlines()[-1])
    return "" if connected else error


def test_the_bridge_connects_over_tls_with_the_brokers_ca_and_reports_a_wrong_ca_in_words(
    tls_broker, tls_files
):
    broker, _ = tls_broker
    run = uuid.uuid4().hex[:8]
    base, prefix = f"tls-{run}/fermentrack", f"tls-{run}/homeassistant"
    ca_file = str(tls_files.authority.certificate)
    with short_home() as home:
        manage(home, "migrate", "--verbosity", "0")
        manage(
            home,
            "shell",
            "-c",
            "from fermentrack.web.devices.models import Device\n"
            "from fermentrack.web.mqtt.models import MqttSettings\n"
            "d = Device(name='ferm-1', link='tcp://127.0.0.1:9')\nd.issue_token()\nd.save()\n"
            "s = MqttSettings.load()\n"
            f"s.enabled, s.host, s.port, s.tls = True, '127.0.0.1', {broker.port}, True\n"
            f"s.ca_certificate = {tls_files.authority.pem()!r}\n"
            f"s.base_topic, s.discovery_prefix = {base!r}, {prefix!r}\n"
            "s.save()",
        )
        listener = Listener(broker, [f"{base}/#", f"{prefix}/#"], ca_certs=ca_file)
        bridge = BridgeProcess(home).start()
        try:
            eventually(
                lambda: (heard := listener.last(f"{base}/status")) and heard.text == "online",
                15,
                "the bridge online over TLS",
            )
            config = f"{prefix}/sensor/{base.replace('/', '_')}/ferm-1_beer_temp/config"
            eventually(lambda: listener.last(config), 10, "the beer sensor's config")
            # A client arriving now, over TLS with the same CA, is handed what is retained.
            late = Listener(broker, [f"{base}/#", f"{prefix}/#"], ca_certs=ca_file)
            try:
                beer = eventually(lambda: late.last(config), 5, "the retained config")
                status = eventually(lambda: late.last(f"{base}/status"), 5, "the status")
            finally:
                late.close()
            assert beer.retain and json.loads(beer.text)["state_topic"] == f"{base}/ferm-1/state"
            assert status.retain and status.text == "online"
            assert stat.S_IMODE((home / "run" / "mqtt-ca.pem").stat().st_mode) == 0o600

            # Another CA: the bridge restarts with it and cannot trust the broker.
            set_ca(home, tls_files.stranger.pem())
            eventually(lambda: listener.last(f"{base}/status").text == "offline", 10, "offline")
            error = eventually(lambda: last_error(home), 15, "the error on the settings row")
            assert error == (
                f"TLS with the broker at 127.0.0.1:{broker.port} failed: the broker's "
                "certificate is not trusted: it is not signed by the CA certificate you gave "
                "(paste the CA that signed the broker's certificate)"
            )
            assert listener.last(f"{base}/status").text == "offline"
        finally:
            bridge.stop()
            listener.close()
            print(f"--- the bridge's log ---\n{bridge.log()}")

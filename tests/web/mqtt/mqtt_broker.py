"""A real mosquitto for the MQTT tests, and a listening client that records what it hears.

The broker is CI's (FERMENTRACK_TEST_MQTT_URL=mqtt://127.0.0.1:PORT, started by .ci/run) when
set, else our own /usr/sbin/mosquitto on a free port with its own configuration. Without
either the tests fail, saying so: MQTT is tested against a real broker or not at all.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = "/usr/sbin/mosquitto"
URL_VARIABLE = "FERMENTRACK_TEST_MQTT_URL"


@dataclass(frozen=True)
class Broker:
    host: str
    port: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def broker_from_environment() -> Broker | None:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname or not parts.port:
        raise RuntimeError(f"{URL_VARIABLE}={url!r}: expected mqtt://HOST:PORT")
    return Broker(parts.hostname, parts.port)


class Mosquitto:
    """Our own mosquitto on 127.0.0.1, anonymous, keeping nothing on disk."""

    def __init__(self, folder: Path, listener: str = "", more: str = "") -> None:
        """`listener`: lines for its listener (e.g. TLS's cafile, certfile, keyfile); `more`:
        lines at the end (e.g. another listener)."""
        self.folder = folder
        self.port = free_port()
        self.listener = listener
        self.more = more
        self.process: subprocess.Popen | None = None

    def start(self) -> Broker:
        binary = MOSQUITTO if os.path.exists(MOSQUITTO) else shutil.which("mosquitto")
        if binary is None:
            raise RuntimeError(
                f"no MQTT broker for the MQTT tests: set {URL_VARIABLE}=mqtt://127.0.0.1:PORT "
                f"(.ci/run does) or install mosquitto ({MOSQUITTO}, in .ci/debian-packages)"
            )
        conf = self.folder / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n{self.listener}"
            f"allow_anonymous true\npersistence false\n{self.more}"
        )
        self.folder.chmod(0o755)  # run as root, mosquitto drops to its own user
        conf.chmod(0o644)
        log_path = self.folder / "mosquitto.log"
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [binary, "-c", str(conf)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at start-up:\n{log_path.read_text()}")
            if _answers("127.0.0.1", self.port):
                return Broker("127.0.0.1", self.port)
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not answer on port {self.port}:\n{log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class Heard:
    topic: str
    text: str
    retain: bool


class Listener:
    """A client subscribed to `filters` from the moment it exists, recording every message."""

    def __init__(self, broker: Broker, filters: list[str], ca_certs: str | None = None) -> None:
        """`ca_certs`: over TLS, trusting this CA file."""
        self.heard: list[Heard] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        if ca_certs is not None:
            self.client.tls_set(ca_certs=ca_certs)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.subscribe([(topic, 1) for topic in filters])
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the test's MQTT listener could not subscribe")

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.heard.append(
                Heard(message.topic, message.payload.decode("utf-8", "replace"), message.retain)
            )

    def on(self, topic: str) -> list[Heard]:
        with self._lock:
            return [heard for heard in self.heard if heard.topic == topic]

    def last(self, topic: str) -> Heard | None:
        messages = self.on(topic)
        return messages[-1] if messages else None

    def since(self, count: int) -> list[Heard]:
        with self._lock:
            return self.heard[count:]

    def count(self) -> int:
        with self._lock:
            return len(self.heard)

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

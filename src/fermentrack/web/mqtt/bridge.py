"""The MQTT bridge (`fermentrack manage mqtt_bridge`, the `mqtt` watcher): publishes every
active device's Home Assistant discovery configs, availability and state, and carries out the
commands that arrive, as the device pages would.

Two threads. paho's network thread connects, reconnects with backoff for ever, and turns what
happens (connected, lost, a message) into events on a queue; it never touches the database. The
main thread owns everything else: it takes events as they come and, every tick, reads the
database and each controller and publishes what changed. A broker that is down costs nothing but
a line in the log and on the settings page.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from django.db import DatabaseError, close_old_connections
from django.db.models import Q
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from fermentrack import config
from fermentrack.controller import client as controller
from fermentrack.controller.client import ControllerProblem
from fermentrack.mqtt.discovery import Chamber, Hydrometer, device_configs
from fermentrack.mqtt.state import HydrometerReading, Temperatures, chamber_state
from fermentrack.mqtt.topics import OFFLINE, ONLINE
from fermentrack.web.beers.models import ControlState, LogPoint
from fermentrack.web.devices.forms import SETPOINT_RANGE
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor, GravityUnit
from fermentrack.web.mqtt.commands import apply_command
from fermentrack.web.mqtt.models import HEARTBEAT_S, MqttSettings

log = logging.getLogger("fermentrack.mqtt")

KEEPALIVE_S = 30
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 60
STATUS_TIMEOUT_S = 1.5  # per controller and tick: a hung controller delays the others this much
PROBE_TIMEOUT_S = 5
CA_FILE_NAME = "mqtt-ca.pem"  # in the home's run/ folder: the broker's CA certificate, if given
# OpenSSL's verification codes (X509_V_ERR_*) the page explains in words.
UNTRUSTED_CODES = {2, 18, 19, 20, 21}  # no issuer known / self-signed / cannot verify the leaf
NAME_CODES = {62, 64}  # host name / IP address mismatch
EXPIRED, NOT_YET_VALID = 10, 9
GRAVITY_UNITS = {GravityUnit.SG: "SG", GravityUnit.PLATO: "°P"}
STATE_NAMES = dict(ControlState.choices)


def tick_s() -> int:
    return config.env_int("FERMENTRACK_MQTT_TICK_S", 2, low=1, high=60)


def ca_file_path() -> Path:
    return config.run_dir() / CA_FILE_NAME


def write_ca_file(text: str) -> Path:
    """The broker's CA certificate in run/, readable by this user only, replaced atomically so
    paho never reads half a file."""
    path = ca_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)  # O_CREAT's mode does not apply to a file left behind
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def tls_problem(error: ssl.SSLError, where: str, host: str, own_ca: bool) -> str:
    """Why the TLS handshake with the broker failed, in words."""
    start = f"TLS with the broker at {where} failed: "
    if isinstance(error, ssl.SSLCertVerificationError):
        code = error.verify_code
        if code in UNTRUSTED_CODES:
            if own_ca:
                return start + (
                    "the broker's certificate is not trusted: it is not signed by the CA "
                    "certificate you gave (paste the CA that signed the broker's certificate)"
                )
            return start + (
                "the broker's certificate is not trusted: it is not signed by an authority this "
                "computer trusts (for a broker with its own CA, paste its CA certificate)"
            )
        if code in NAME_CODES:
            return start + (
                f"the broker's certificate is for a different host name than {host} (give the "
                "host name or address the certificate was made for)"
            )
        if code == EXPIRED:
            return start + "the broker's certificate has expired"
        if code == NOT_YET_VALID:
            return (
                start
                + "the broker's certificate is not valid yet (is this computer's clock right?)"
            )
        return start + f"the broker's certificate was refused: {error.verify_message}"
    reason = error.reason or str(error)
    return start + f"{reason} (does the broker speak TLS on this port?)"


@dataclass(frozen=True)
class Event:
    kind: str  # "up", "down", "message", "stop"
    text: str = ""
    topic: str = ""
    payload: bytes = b""
    retain: bool = False


class Bridge:
    def __init__(self, settings: MqttSettings) -> None:
        self.settings = settings
        self.fingerprint = settings.connection_fingerprint()
        self.topics = settings.topics()
        self.where = f"{settings.host}:{settings.port}"
        self.events: queue.Queue[Event] = queue.Queue()
        self.stopping = threading.Event()
        self.clear_on_exit = False
        self.connected = False  # as the main thread knows it
        self.published: dict[str, str] = {}  # retained topic -> payload, this connection
        self.held: set[str] = set()  # our retained topics the broker says it keeps
        self.state_sent: dict[str, tuple[str, float]] = {}  # device -> (state, when)
        self.last_heartbeat = 0.0
        self._session_up = False  # as paho's thread knows it
        self.client = self._make_client()

    # -- paho's thread: events only ----------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        settings = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.effective_client_id(),
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        self.setup_problem = ""
        self.ca_path: str | None = None
        if settings.tls:
            try:
                if settings.ca_certificate.strip():
                    self.ca_path = str(write_ca_file(settings.ca_certificate))
                else:
                    ca_file_path().unlink(missing_ok=True)
                # Without a CA of its own, the system's certificate authorities.
                client.tls_set(ca_certs=self.ca_path)
            except (ssl.SSLError, OSError) as error:
                self.setup_problem = (
                    f"cannot set up TLS with the broker's CA certificate: {error}; paste it "
                    "again on the MQTT settings page"
                )
        client.will_set(self.topics.status, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.events.put(
                Event("down", f"the broker at {self.where} refused the connection: {reason_code}")
            )
            return
        self._session_up = True
        # Subscribing here renews the subscriptions on every reconnection.
        filters = [*self.topics.retained_filters, self.topics.command_filter]
        client.subscribe([(topic, 1) for topic in filters])
        client.publish(self.topics.status, ONLINE, qos=1, retain=True)
        self.events.put(Event("up"))

    def _on_connect_fail(self, client, userdata) -> None:
        self.events.put(Event("down", self._why_unreachable()))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was_up, self._session_up = self._session_up, False
        if was_up and not self.stopping.is_set():
            self.events.put(
                Event("down", f"lost the connection to the broker at {self.where}: {reason_code}")
            )

    def _on_message(self, client, userdata, message) -> None:
        self.events.put(
            Event("message", topic=message.topic, payload=message.payload, retain=message.retain)
        )

    def _why_unreachable(self) -> str:
        """paho does not say why a connection failed: try once ourselves, in its thread."""
        try:
            socket.create_connection(
                (self.settings.host, self.settings.port), timeout=PROBE_TIMEOUT_S
            ).close()
        except OSError as error:
            return f"cannot reach the broker at {self.where}: {error.strerror or error}"
        if self.settings.tls:
            problem = self._tls_probe()
            if problem:
                return problem
        hint = " (does the broker expect TLS?)" if not self.settings.tls else ""
        return f"the broker at {self.where} took the connection, but no MQTT session{hint}"

    def _tls_probe(self) -> str | None:
        """Shake hands as paho does, with the same authorities: why that fails, if it does."""
        host = self.settings.host
        try:
            context = ssl.create_default_context(cafile=self.ca_path)
            with (
                socket.create_connection((host, self.settings.port), PROBE_TIMEOUT_S) as raw,
                context.wrap_socket(raw, server_hostname=host),
            ):
                return None
        except ssl.SSLError as error:
            return tls_problem(error, self.where, host, own_ca=self.ca_path is not None)
        except OSError as error:
            return f"cannot reach the broker at {self.where}: {error.strerror or error}"

    # -- the main thread ---------------------------------------------------------------------

    def stop(self) -> None:
        self.stopping.set()
        self.events.put(Event("stop"))

    def run(self) -> str:
        """Publish until stop() or until the settings change; why it stopped."""
        log.info(
            "MQTT bridge for %s, base topic %s, discovery prefix %s",
            self.where,
            self.topics.base,
            self.topics.discovery_prefix,
        )
        if self.setup_problem:
            # Nothing to connect with: say so, and wait for new settings.
            log.error("%s", self.setup_problem)
            self.settings.record(
                connected=False, last_error=self.setup_problem, last_error_at=timezone.now()
            )
        else:
            self.client.connect_async(self.settings.host, self.settings.port, KEEPALIVE_S)
            self.client.loop_start()
        every_s = tick_s()
        next_tick = time.monotonic()
        reason = "asked to stop"
        try:
            while not self.stopping.is_set():
                try:
                    event = self.events.get(timeout=max(0.0, next_tick - time.monotonic()))
                except queue.Empty:
                    event = None
                try:
                    close_old_connections()
                    if event is not None:
                        self._handle(event)
                    if time.monotonic() >= next_tick:
                        next_tick = time.monotonic() + every_s
                        changed = self._tick()
                        if changed:
                            reason = changed
                            break
                except DatabaseError as error:
                    log.warning("database unavailable (%s): trying again next tick", error)
                except Exception:  # one bad round must not end the bridge: log it, carry on
                    log.exception("unexpected error in the MQTT bridge; carrying on")
        finally:
            self._shut_down()
        log.info("MQTT bridge stopped: %s", reason)
        return reason

    def _tick(self) -> str | None:
        """One round: settings, heartbeat, publishing. A reason to stop when the settings
        changed under the bridge."""
        settings = MqttSettings.objects.select_related("command_user").filter(pk=1).first()
        if settings is None or not settings.enabled:
            self.clear_on_exit = True
            return "MQTT was turned off in the settings"
        if settings.connection_fingerprint() != self.fingerprint:
            self.clear_on_exit = self._retired_by(settings)
            return "the connection settings changed: restarting with the new ones"
        self.settings = settings
        now = time.monotonic()
        if now - self.last_heartbeat >= HEARTBEAT_S:
            self.last_heartbeat = now
            settings.record(bridge_seen_at=timezone.now(), connected=self.connected)
        if self.connected:
            self._sync()
        return None

    def _retired_by(self, settings: MqttSettings | None) -> bool:
        """Whether `settings` leave what this bridge published to nobody: MQTT off, no broker,
        or other topics."""
        return (
            settings is None
            or not settings.enabled
            or not settings.host
            or settings.topics() != self.topics
        )

    def _handle(self, event: Event) -> None:
        if event.kind == "up":
            self.connected = True
            self.published.clear()
            self.held.clear()
            self.state_sent.clear()
            log.info("connected to the broker at %s", self.where)
            now = timezone.now()
            self.settings.record(
                connected=True, last_connected_at=now, bridge_seen_at=now, last_error=""
            )
            self._sync()
        elif event.kind == "down":
            self.connected = False
            if event.text != self.settings.last_error:
                log.warning("%s; trying again", event.text)  # once per new reason
            self.settings.record(
                connected=False, last_error=event.text, last_error_at=timezone.now()
            )
        elif event.kind == "message":
            parsed = self.topics.parse_command(event.topic)
            if parsed is not None:
                self._command(*parsed, event)
            elif self.topics.is_retained_topic(event.topic):
                if event.payload:
                    self.held.add(event.topic)
                else:
                    self.held.discard(event.topic)

    def _command(self, device: str, command: str, event: Event) -> None:
        if not event.payload:
            return  # what clearing a retained command leaves behind
        if event.retain:
            self._publish(event.topic, "", retain=True)  # or it comes back at every reconnect
            message = (
                f"{command} command for {device} refused: it was retained; publish commands "
                "without the retain flag"
            )
            ok = False
        else:
            self.settings = MqttSettings.objects.select_related("command_user").get(pk=1)
            outcome = apply_command(self.settings, device, command, event.payload)
            ok, message = outcome.ok, outcome.message
        shown = event.payload[:64].decode("utf-8", "replace")
        if ok:
            user = self.settings.command_user.username if self.settings.command_user else "?"
            log.info("over MQTT, acting as %s (%s %r): %s", user, command, shown, message)
            self.state_sent.pop(device, None)  # show the change at once
            if self.connected:
                self._sync()
        else:
            log.warning("refused over MQTT (%s %r): %s", command, shown, message)
            self._publish(self.topics.error(device), message, retain=False)

    def _sync(self) -> None:
        """Publish what changed: discovery configs, availability, state; clear what belongs to
        no active device any more."""
        accept = self.settings.accept_commands and self.settings.command_user_id is not None
        retained: dict[str, str] = {}
        states: dict[str, tuple[str, dict, int]] = {}
        for device in Device.objects.filter(active=True).order_by("name"):
            chamber, state, online = self._read(device)
            for topic, payload in device_configs(self.topics, chamber, commands=accept).items():
                retained[topic] = json.dumps(payload, ensure_ascii=False)
            retained[self.topics.availability(device.name)] = ONLINE if online else OFFLINE
            states[device.name] = (self.topics.state(device.name), state, device.log_interval_s)
        for topic, payload in retained.items():
            if self.published.get(topic) != payload:
                self._publish(topic, payload, retain=True)
        now = time.monotonic()
        for name, (topic, state, interval_s) in states.items():
            text = json.dumps(state, ensure_ascii=False, sort_keys=True)
            last = self.state_sent.get(name)
            if last is None or last[0] != text or now - last[1] >= interval_s:
                payload = json.dumps(state | {"ts": int(time.time())}, ensure_ascii=False)
                if self._publish(topic, payload, retain=True):
                    self.state_sent[name] = (text, now)
        keep = set(retained) | {topic for topic, _, _ in states.values()}
        for topic in sorted((set(self.published) | self.held) - keep):
            log.info("clearing %s: nothing is published there any more", topic)
            self._publish(topic, "", retain=True)
            self.published.pop(topic, None)
            self.held.discard(topic)
        for name in set(self.state_sent) - set(states):
            del self.state_sent[name]

    def _read(self, device: Device) -> tuple[Chamber, dict, bool]:
        """What is known of a device now: its discovery description, its state, and whether its
        controller is connected to the firmware."""
        try:
            status = controller.status(device.name, timeout=STATUS_TIMEOUT_S)
            problem = None
        except ControllerProblem as error:
            status, problem = None, f"the controller {error.reason}"
        point = LogPoint.objects.filter(device=device).order_by("-ts").first()
        temperatures = None
        if point is not None:
            temperatures = Temperatures(
                ts=point.ts,
                beer_temp=point.beer_temp,
                fridge_temp=point.fridge_temp,
                room_temp=point.room_temp,
                beer_set=point.beer_set,
                fridge_set=point.fridge_set,
                state=point.state,
            )
        hydrometers, readings = [], []
        for sensor in GravitySensor.objects.filter(device=device, active=True).order_by("pk"):
            latest = (
                sensor.readings.filter(hidden=False, outlier=False)
                .filter(Q(gravity__isnull=False) | Q(corrected_gravity__isnull=False))
                .order_by("-ts")
                .first()
            )
            battery = (
                sensor.readings.filter(battery__isnull=False)
                .order_by("-ts")
                .values_list("battery", flat=True)
                .first()
            )
            key, unit = str(sensor.pk), GRAVITY_UNITS.get(sensor.display_unit, "SG")
            hydrometers.append(Hydrometer(key, sensor.name, unit, battery is not None))
            readings.append(
                HydrometerReading(
                    key=key,
                    name=sensor.name,
                    gravity=sensor.gravity_in_unit(latest.shown_gravity) if latest else None,
                    unit=unit,
                    battery=battery,
                    ts=latest.ts if latest else None,
                )
            )
        firmware = (device.status or {}).get("firmware")
        low, high = SETPOINT_RANGE.get(device.temp_format, SETPOINT_RANGE["C"])
        chamber = Chamber(
            name=device.name,
            temp_format=device.temp_format,
            setpoint_range=(float(low), float(high)),
            firmware_version=firmware.get("version") if isinstance(firmware, dict) else None,
            hydrometers=tuple(hydrometers),
        )
        state = chamber_state(
            unit=device.temp_format,
            status=status,
            temperatures=temperatures,
            hydrometers=readings,
            state_names=STATE_NAMES,
            problem=problem,
        )
        return chamber, state, bool(status and status.get("connected"))

    def _publish(self, topic: str, payload: str, *, retain: bool) -> bool:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            log.debug("not published on %s: %s", topic, mqtt.error_string(info.rc))
            return False
        if retain:
            self.published[topic] = payload
        return True

    def _shut_down(self) -> None:
        """Say offline (a clean disconnect sends no last will), clear what the brewer turned
        off, and let go of the broker."""
        if self.connected and self.client.is_connected():
            if not self.clear_on_exit:
                # Stopped by a signal: the spawner may have seen the new settings before us.
                try:
                    self.clear_on_exit = self._retired_by(MqttSettings.objects.filter(pk=1).first())
                except DatabaseError as error:
                    log.warning("could not read the settings before leaving: %s", error)
            if self.clear_on_exit:
                for topic in sorted(set(self.published) | self.held):
                    self._publish(topic, "", retain=True)
            info = self.client.publish(self.topics.status, OFFLINE, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=3)
            except (RuntimeError, ValueError) as error:
                log.warning("could not say offline before leaving: %s", error)
        self.stopping.set()
        self.client.disconnect()
        self.client.loop_stop()
        try:
            self.settings.record(connected=False)
        except DatabaseError as error:
            log.warning("could not note the bridge stopped: %s", error)

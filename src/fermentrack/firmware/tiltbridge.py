"""A Tilt floating in the simulated beer, posted to the web app as a TiltBridge would post it.

`fermentrack firmware --tiltbridge URL --tilt-colour Purple` (simulated hardware only): every
`--tilt-every` simulated seconds (default 900), never more often than once a real second, the
firmware POSTs a TiltBridge body (gravity-and-push.md §2.2) holding one Tilt: the simulated beer
temperature in °F and the simulated gravity with a Tilt's jitter (±0.0005, from the scenario's
seed), as text the way a bridge sends them. The bridge is named `sim-<firmware folder name>`.

The posts go out from a thread (urllib), so the chamber's tick never waits on the network; a
post that fails is logged and the next reading tried in its turn, never fatal. Only the latest
reading waits to be sent: a web app that is down gets the current one when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from fermentrack.firmware.board import Board
from fermentrack.firmware.clock import Clock
from fermentrack.gravity.tilt import COLOURS
from fermentrack.gravity.units import c_to_f

log = logging.getLogger(__name__)

DEFAULT_EVERY_S = 900
MIN_REAL_INTERVAL_S = 1.0  # the web app keys readings by their second
JITTER_SG = 0.0005
POST_TIMEOUT_S = 10.0
MDNS_ID_MAX = 31  # a TiltBridge's name is at most 31 characters


def bridge_name(firmware_folder: Path) -> str:
    """The simulated bridge's mdns_id: sim-<folder name>, cut to a bridge name's length."""
    return f"sim-{Path(firmware_folder).name}"[:MDNS_ID_MAX]


def tilt_colour(text: str) -> str:
    """A Tilt colour as the Tilt names it ('purple' -> 'Purple'); ValueError naming them."""
    for colour in COLOURS:
        if colour.lower() == text.strip().lower():
            return colour
    raise ValueError(f"{text!r} is not a Tilt colour: expected one of {', '.join(COLOURS)}")


class TiltBridgePoster:
    """Posts the readings it is offered to `url`, one at a time, from its own thread."""

    def __init__(
        self, url: str, colour: str, mdns_id: str, *, every_s: int = DEFAULT_EVERY_S, seed: int = 0
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--tiltbridge {url!r}: expected http://host:port/tiltbridge/")
        if every_s < 1:
            raise ValueError(f"--tilt-every {every_s!r}: expected whole seconds, 1 or more")
        self.url = url
        self.colour = tilt_colour(colour)
        self.mdns_id = mdns_id
        self.every_s = every_s
        self.posted = 0
        self._jitter = random.Random(f"{seed}/tilt")
        self._waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self._failing = False
        self._thread = threading.Thread(target=self._send_all, name="tiltbridge", daemon=True)
        self._thread.start()

    def body(self, beer_c: float, gravity: float) -> dict:
        """The §2.2 body for one reading: temperature (°C in) as °F text, gravity as SG text."""
        jittered = gravity + self._jitter.uniform(-JITTER_SG, JITTER_SG)
        return {
            "mdns_id": self.mdns_id,
            "tilts": {
                self.colour: {
                    "color": self.colour,
                    "temp": f"{c_to_f(beer_c):.1f}",
                    "tempUnit": "F",
                    "gravity": f"{jittered:.4f}",
                    "weeks_on_battery": 0,
                    "sends_battery": False,
                    "high_resolution": False,
                    "fwVersion": 0,
                    "rssi": -60,
                }
            },
        }

    def offer(self, body: dict) -> None:
        """Send `body` next; one still waiting is dropped for it (only the latest counts)."""
        data = json.dumps(body).encode()
        while True:
            try:
                self._waiting.put_nowait(data)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._waiting.get_nowait()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread after the post under way (waiting at most `timeout`)."""
        with contextlib.suppress(queue.Empty):
            self._waiting.get_nowait()
        self._waiting.put(None)
        self._thread.join(timeout)

    def _send_all(self) -> None:
        while (data := self._waiting.get()) is not None:
            self._send(data)

    def _send(self, data: bytes) -> None:
        request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            detail = error.read(300).decode("utf-8", "replace")
            self._failed(f"HTTP {error.code}: {detail}")
        except (OSError, ValueError) as error:  # URLError, timeouts, refused connections
            self._failed(str(getattr(error, "reason", error)))
        else:
            self.posted += 1
            if self._failing:
                log.info("TiltBridge posts reach %s again", self.url)
            self._failing = False

    def _failed(self, reason: str) -> None:
        # One warning when posts start failing, not one a second while the web app is down.
        level = logging.DEBUG if self._failing else logging.WARNING
        log.log(level, "TiltBridge post to %s failed: %s", self.url, reason)
        self._failing = True

    async def follow(self, board: Board, clock: Clock, stop: asyncio.Event) -> None:
        """Offer a reading of the simulated beer every `every_s` simulated seconds (the first
        at once), at most one a real second, until `stop`."""
        simulator = board.simulator
        due = board.ticks
        last_offer = None
        while not stop.is_set():
            wait = clock.real_delay_until(due)
            if last_offer is not None:
                wait = max(wait, MIN_REAL_INTERVAL_S - (time.monotonic() - last_offer))
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                continue
            self.offer(self.body(simulator.beer_temperature, simulator.gravity))
            last_offer = time.monotonic()
            due = max(due + self.every_s, board.ticks)

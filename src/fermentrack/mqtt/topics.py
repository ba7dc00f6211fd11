"""The topics the bridge publishes and listens on: the one place their names are made.

<base>/status                     online | offline (retained; offline is the last will)
<base>/<device>/state             the chamber's state as JSON (retained)
<base>/<device>/availability      online | offline: is its controller connected (retained)
<base>/<device>/error             why a command was refused, in words
<base>/<device>/<command>/set     mode, beer_setting, fridge_setting
<prefix>/<component>/<node>/<device>_<entity>/config   Home Assistant discovery (retained)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ONLINE = "online"
OFFLINE = "offline"
COMMANDS = ("mode", "beer_setting", "fridge_setting")
MAX_PREFIX_CHARS = 100
NOT_IN_IDS = re.compile(r"[^A-Za-z0-9_-]+")


def topic_problem(value: str, what: str) -> str | None:
    """Why `value` cannot be a topic prefix (the base topic, the discovery prefix), or None."""
    example = "e.g. fermentrack or home/fermentrack"
    if not value:
        return f"{what} is empty: expected a topic, {example}"
    if "+" in value or "#" in value:
        return (
            f"{what} {value!r} may not hold the wildcards '+' or '#': expected a topic, {example}"
        )
    if value.startswith("/") or value.endswith("/") or "//" in value:
        return f"{what} {value!r} may not start or end with '/' or have an empty level ('//')"
    if value.startswith("$"):
        return f"{what} {value!r} may not start with '$': such topics belong to the broker"
    if any(character.isspace() or ord(character) < 32 for character in value):
        return f"{what} {value!r} may not hold spaces or control characters: {example}"
    if len(value) > MAX_PREFIX_CHARS:
        return f"{what} is {len(value)} characters long: at most {MAX_PREFIX_CHARS} are allowed"
    return None


def id_part(text: str) -> str:
    """`text` as a part of a Home Assistant id or discovery topic level: A-Z, a-z, 0-9, '_', '-'
    only (any other run of characters becomes one '_')."""
    return NOT_IN_IDS.sub("_", text).strip("_") or "_"


@dataclass(frozen=True)
class Topics:
    base: str
    discovery_prefix: str

    @property
    def node_id(self) -> str:
        """Names this bridge in discovery topics and unique ids: two Fermentracks with different
        base topics on one broker never overwrite each other's entities."""
        return id_part(self.base)

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    def state(self, device: str) -> str:
        return f"{self.base}/{device}/state"

    def availability(self, device: str) -> str:
        return f"{self.base}/{device}/availability"

    def error(self, device: str) -> str:
        return f"{self.base}/{device}/error"

    def command(self, device: str, command: str) -> str:
        return f"{self.base}/{device}/{command}/set"

    @property
    def command_filter(self) -> str:
        return f"{self.base}/+/+/set"

    @property
    def retained_filters(self) -> tuple[str, ...]:
        """What this bridge publishes retained, as subscriptions: the broker answers with what
        it keeps, so what a removed device left behind is found and cleared."""
        return (
            f"{self.discovery_prefix}/+/{self.node_id}/+/config",
            f"{self.base}/+/state",
            f"{self.base}/+/availability",
        )

    def config(self, component: str, device: str, entity: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.node_id}/{device}_{entity}/config"

    def unique_id(self, device: str, entity: str) -> str:
        return f"{self.node_id}_{device}_{entity}"

    def device_id(self, device: str) -> str:
        return f"{self.node_id}_{device}"

    def parse_command(self, topic: str) -> tuple[str, str] | None:
        """(device, command) of a command topic, or None when `topic` is not one."""
        head = f"{self.base}/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if len(parts) != 3 or parts[2] != "set" or not parts[0] or not parts[1]:
            return None
        return parts[0], parts[1]

    def is_retained_topic(self, topic: str) -> bool:
        """Whether `topic` is one of those this bridge publishes retained (status aside)."""
        return any(_matches(pattern, topic) for pattern in self.retained_filters)


def _matches(pattern: str, topic: str) -> bool:
    wanted, levels = pattern.split("/"), topic.split("/")
    if len(wanted) != len(levels):
        return False
    return all(want == "+" or want == level for want, level in zip(wanted, levels, strict=True))

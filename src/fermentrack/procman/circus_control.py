"""Talking to circusd over its endpoint: one command at a time, an answer or an error in words."""

from __future__ import annotations

import time

from circus.client import CircusClient
from circus.exc import CallError

DEFAULT_TIMEOUT_S = 10.0


class CircusUnavailable(Exception):
    """circusd does not answer on its endpoint (not running, or too busy to answer in time)."""


class CircusRefused(Exception):
    """circusd answered with an error; the message is its reason."""


class CircusBusy(CircusRefused):
    """circusd is in the middle of another command on the same watchers: try again shortly."""


def _is_busy(reason: str) -> bool:
    return "already running" in reason or "is busy" in reason


class Circus:
    """The commands of circus' protocol that the stack uses."""

    def __init__(self, endpoint: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.endpoint = endpoint
        self.client = CircusClient(endpoint=endpoint, timeout=timeout)

    def close(self) -> None:
        self.client.stop()

    def call(self, command: str, **properties) -> dict:
        """Send one command; its answer, or CircusUnavailable / CircusBusy / CircusRefused."""
        message = {"command": command, "properties": properties}
        try:
            answer = self.client.call(message)
        except CallError as error:
            raise CircusUnavailable(f"circusd at {self.endpoint}: {error}") from None
        if answer.get("status") != "ok":
            reason = str(answer.get("reason", answer))
            if _is_busy(reason):
                raise CircusBusy(f"circus {command}: {reason}")
            raise CircusRefused(f"circus {command}: {reason}")
        return answer

    def call_retrying(self, command: str, *, attempts: int = 20, **properties) -> dict:
        """Like `call`, retrying while circusd answers that it is busy with another command."""
        for attempt in range(attempts):
            try:
                return self.call(command, **properties)
            except CircusBusy:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.25 * (attempt + 1))
        raise AssertionError("unreachable")

    def statuses(self) -> dict[str, str]:
        """{watcher: state} for every watcher circusd runs."""
        return dict(self.call("status").get("statuses", {}))

    def watchers(self) -> list[str]:
        return list(self.call("list").get("watchers", []))

    def environment(self, watcher: str) -> dict[str, str]:
        options = self.call("get", name=watcher, keys=["env"]).get("options", {})
        return dict(options.get("env") or {})

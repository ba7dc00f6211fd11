"""The controller's HTTP client to the web app (interfaces.md §1): config, points, annotations,
status, and the gravity readings a profile's hold waits on.

One kept-alive connection per controller (controller/http11.py), the device token on every
request, and a bound on every call as a whole, so the controller never waits on the web app for
longer than a poll. Failures come in two kinds: WebUnavailable (try again later) and WebRejected
(the request itself is wrong, and sending it again will not help).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fermentrack.controller.http11 import HttpClient, HttpError, Response

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0


class WebUnavailable(Exception):
    """The web app cannot take the request now: down, too slow, 5xx or 429. Retry later."""


class WebRejected(Exception):
    """The web app refused the request itself (a 4xx other than 429, or a redirect).

    `status_code` is the HTTP status and `detail` the web app's reason in its own words.
    """

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


class WebApi:
    """The calls of interfaces.md §1, each answering the web app's JSON object."""

    def __init__(self, base_url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"web app URL {base_url!r}: expected http://host:port or https://host")
        if not token.isascii() or not token.isprintable():
            raise ValueError("the device token holds characters an HTTP header cannot carry")
        if not timeout > 0:
            raise ValueError(f"web app timeout {timeout!r}: expected a number of seconds above 0")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = HttpClient(
            self.base_url,
            {"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    async def get_config(self) -> dict:
        return await self._request("GET", "/api/controller/config")

    async def post_points(self, points: list[dict]) -> dict:
        """Store log points (at most 1000); answers {stored, duplicates}."""
        return await self._request("POST", "/api/controller/points", {"points": points})

    async def post_annotations(self, annotations: list[dict]) -> dict:
        """Store annotations (at most 1000); answers {stored}."""
        return await self._request(
            "POST", "/api/controller/annotations", {"annotations": annotations}
        )

    async def post_status(self, status: dict) -> dict:
        """Report the controller's status; answers {config_version}."""
        return await self._request("POST", "/api/controller/status", status)

    async def get_gravity(self, since: int) -> dict:
        """The device's gravity readings from `since` (Unix s), oldest first; answers
        {readings: [{ts, gravity}]} (docs/interfaces-additions.md §1)."""
        return await self._request("GET", f"/api/controller/gravity?since={int(since)}")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> WebApi:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, body: Any = None) -> dict:
        what = f"{method} {self.base_url}{path}"
        content = None
        if body is not None:  # ValueError for NaN or infinity: JSON cannot carry them
            # ASCII escapes carry any text, even a lone surrogate the firmware sent.
            content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        try:
            async with asyncio.timeout(self.timeout):  # connecting, sending, reading: all of it
                response = await self._http.request(method, path, content, "application/json")
        except TimeoutError:
            raise WebUnavailable(f"{what}: no answer within {self.timeout:g} s") from None
        except HttpError as error:
            raise WebUnavailable(f"{what}: {error}") from None
        status = response.status
        if status == 429 or status >= 500:
            raise WebUnavailable(f"{what}: HTTP {status}: {_detail(response)}")
        if not 200 <= status < 300:
            raise WebRejected(status, _detail(response))
        answer = _json(response)
        if not isinstance(answer, dict):
            # A proxy or a captive portal, not our web app: nothing was stored for sure.
            raise WebUnavailable(f"{what}: HTTP {status} but the answer is not a JSON object")
        log.debug("%s: %s", what, answer)
        return answer


def _json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        return None


def _detail(response: Response) -> str:
    """The web app's own reason (`detail` of its error answers), else the status in words."""
    answer = _json(response)
    if isinstance(answer, dict) and isinstance(answer.get("detail"), str):
        return answer["detail"]
    if response.status in (301, 302, 303, 307, 308) and "location" in response.headers:
        return f"redirected to {response.headers['location']}: check the web app URL"
    return f"{response.status} {response.reason}".strip()

"""`fermentrack controller NAME`: run one device's controller in the foreground.

What the `dev-<name>` watcher runs. Reads its device token and the web app's address from the
environment (interfaces.md §1, §4). FERMENTRACK_DEVICE_LINK, when set, lets it start on the
firmware before the web app answers; FERMENTRACK_DEVICE_STARTUP_DELAY_S overrides the wait after
opening a serial port (10 s, for an Uno that resets). SIGTERM and SIGINT stop it cleanly (exit
0); it exits 1 only when it cannot do its job at all (no token, a link that cannot be one,
firmware it cannot drive, another controller already running for the device), so that circus
restarts it.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from fermentrack import config

log = logging.getLogger(__name__)


def outbox_path(device_name: str):
    """run/dev-<name>.outbox (interfaces.md §1)."""
    return config.run_dir() / f"dev-{config.check_device_name(device_name)}.outbox"


def run_controller(name: str, *, listen: tuple[str, int] | None = None) -> int:
    """Run the controller of `name` until SIGTERM; the process's exit status.

    Raises config.ConfigError for a missing token or a bad name or URL.
    """
    config.check_device_name(name)
    token = config.required_token(
        "FERMENTRACK_DEVICE_TOKEN",
        "the controller needs its device's token (`fermentrack device add` prints it)",
    )
    api_url = config.api_url()
    link = config.env_text("FERMENTRACK_DEVICE_LINK", "").strip() or None
    # An Uno resets when its port opens and needs ~10 s (the session's default for serial
    # links); a Leonardo or a pseudo-terminal needs none.
    startup_delay = config.env_int("FERMENTRACK_DEVICE_STARTUP_DELAY_S", -1, low=-1, high=120)
    run_dir = config.run_dir()
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    delay = None if startup_delay < 0 else float(startup_delay)
    return asyncio.run(_run(name, token, api_url, link, delay, listen))


async def _run(
    name: str,
    token: str,
    api_url: str,
    link: str | None,
    startup_delay_s: float | None,
    listen: tuple[str, int] | None,
) -> int:
    from fermentrack.controller.controller import Controller
    from fermentrack.controller.outbox import Outbox
    from fermentrack.controller.web_api import WebApi

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    api = WebApi(api_url, token)
    outbox = Outbox(outbox_path(name))
    try:
        controller = Controller(
            name,
            api=api,
            outbox=outbox,
            socket_path=config.controller_socket_path(name),
            link=link,
            startup_delay_s=startup_delay_s,
            listen=listen,
            secret=config.token_fingerprint(token),
        )
        log.info(
            "controller of %s starting: web app %s, firmware %s",
            name,
            api_url,
            link or "(from the web app's config)",
        )
        status = await controller.run(stop)
        log.info("controller of %s stopped", name)
        return status
    finally:
        outbox.close()
        await api.aclose()

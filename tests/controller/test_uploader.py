"""The uploader drains the outbox into the real web app: every point arrives once, whatever
stops in between (the web app, the uploader itself), and bad data never blocks good data."""

from __future__ import annotations

import asyncio
import logging
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fermentrack.controller.outbox import Outbox
from fermentrack.controller.uploader import INITIAL_BACKOFF_S, Uploader, backoff_delay
from fermentrack.controller.web_api import WebApi

from .web_app import StubWebServer, WebApp

T0 = 1_700_000_000


def point(ts: int, **values) -> dict:
    item = {
        "ts": ts,
        "beer_temp": 19.94,
        "beer_set": 20.0,
        "fridge_temp": 17.31,
        "fridge_set": 16.5,
        "room_temp": 21.12,
        "state": 4,
        "temp_format": "C",
    }
    return item | values


@pytest.fixture(scope="module")
def web_app(tmp_path_factory):
    with WebApp(tmp_path_factory.mktemp("web-home")) as app:
        yield app


@pytest.fixture
def web(web_app):
    """The module's web app, running (a test that killed it and failed may have left it down)."""
    if web_app.process is None:
        web_app.start()
    return web_app


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "dev-test.outbox")
    yield box
    box.close()


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def drain(uploader: Uploader, timeout: float = 60) -> float:
    """Run the uploader until the outbox is empty; returns how long that took."""
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(uploader.run(stop))
    try:
        await until(lambda: uploader.backlog == 0, timeout, "the outbox to drain")
        return time.monotonic() - started
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def test_the_uploader_delivers_every_point_and_annotation(web, outbox):
    token = web.add_device("fridge-all")
    for n in range(5_000):
        outbox.append("point", point(T0 + 10 * n))
    for n in range(3):
        outbox.append("annotation", {"ts": T0 + n, "text": f"note {n}", "source": "controller"})

    async def go():
        async with WebApi(web.url, token) as api:
            uploader = Uploader(outbox, api)
            elapsed = await drain(uploader)
            return uploader, elapsed

    uploader, elapsed = asyncio.run(go())
    print(f"\ndelivered 5000 points in {elapsed:.2f} s: {5_000 / elapsed:.0f} points/s")
    assert web.point_timestamps("fridge-all") == [T0 + 10 * n for n in range(5_000)]
    assert web.annotation_texts("fridge-all") == ["note 0", "note 1", "note 2"]
    assert (uploader.delivered, uploader.dropped, uploader.last_error) == (5_003, 0, None)


def test_every_point_logged_while_the_web_app_was_down_arrives_after_it_returns(
    web, outbox, caplog
):
    token = web.add_device("fridge-outage")
    appended: list[int] = []
    producing = True

    async def produce(uploader: Uploader) -> None:
        ts = T0
        while producing:
            outbox.append("point", point(ts))
            appended.append(ts)
            uploader.wake()
            ts += 1
            await asyncio.sleep(0.01)

    async def go():
        nonlocal producing
        async with WebApi(web.url, token, timeout=2) as api:
            uploader = Uploader(outbox, api, max_backoff_s=1.0)
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(uploader.run(stop)),
                asyncio.create_task(produce(uploader)),
            ]
            await until(lambda: uploader.delivered >= 100, 10, "the first points")
            await asyncio.to_thread(web.kill)
            await asyncio.sleep(3)
            waiting = uploader.backlog
            await asyncio.to_thread(web.start)
            back = time.monotonic()
            producing = False
            await until(lambda: uploader.backlog == 0, 30, "the outbox to drain")
            recovered = time.monotonic() - back
            stop.set()
            await asyncio.gather(*tasks)
            return waiting, recovered

    with caplog.at_level(logging.INFO, logger="fermentrack.controller"):
        waiting, recovered = asyncio.run(go())
    print(f"\n{waiting} points waited; all delivered {recovered:.2f} s after the web app was up")
    assert waiting > 150
    assert web.point_timestamps("fridge-outage") == appended
    assert recovered < 1.0 + 2.0  # at most one backoff at its cap, then the sending itself
    assert "web app unavailable" in caplog.text
    assert "web app reachable again" in caplog.text


def test_a_refused_entry_is_dropped_with_the_reason_logged_and_the_others_stored(
    web, outbox, caplog
):
    token = web.add_device("fridge-bad")
    for n in range(60):
        if n == 17:
            outbox.append("point", point(T0 + n, beer_temp=999))
        elif n == 42:
            outbox.append("point", point(5))
        else:
            outbox.append("point", point(T0 + n))
    for text in ("first", "", "third"):
        outbox.append("annotation", {"ts": T0, "text": text, "source": "controller"})

    async def go():
        async with WebApi(web.url, token) as api:
            uploader = Uploader(outbox, api)
            await drain(uploader)
            return uploader

    with caplog.at_level(logging.INFO, logger="fermentrack.controller"):
        uploader = asyncio.run(go())
    assert web.point_timestamps("fridge-bad") == [T0 + n for n in range(60) if n not in (17, 42)]
    assert web.annotation_texts("fridge-bad") == ["first", "third"]
    assert (uploader.delivered, uploader.dropped) == (58 + 2, 3)
    dropped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dropping")]
    assert len(dropped) == 3
    assert "expected a temperature from -60 to 150, or null, got 999" in dropped[0]
    assert "expected an integer Unix time in seconds (years 2000 to 2099), got 5" in dropped[1]
    assert "annotation" in dropped[2] and "expected a text of 1 to 500 characters" in dropped[2]


def test_a_wrong_token_keeps_every_entry_in_the_outbox_until_the_token_is_fixed(
    web, outbox, caplog
):
    token = web.add_device("fridge-token")
    for n in range(20):
        outbox.append("point", point(T0 + n))

    async def with_wrong_token():
        async with WebApi(web.url, "not-the-token") as api:
            uploader = Uploader(outbox, api, max_backoff_s=0.5)
            stop = asyncio.Event()
            task = asyncio.create_task(uploader.run(stop))
            await asyncio.sleep(1.6)
            stop.set()
            await task
            return uploader

    with caplog.at_level(logging.ERROR, logger="fermentrack.controller"):
        uploader = asyncio.run(with_wrong_token())
    refusals = [r for r in caplog.records if "refused the device token" in r.getMessage()]
    assert 2 <= len(refusals) <= 6  # tried again, slowly
    assert all(r.levelno == logging.ERROR for r in refusals)
    assert "FERMENTRACK_DEVICE_TOKEN" in refusals[0].getMessage()
    assert "401" in uploader.last_error
    assert uploader.backlog == 20
    assert uploader.dropped == 0
    assert web.point_timestamps("fridge-token") == []

    async def with_the_right_token():
        async with WebApi(web.url, token) as api:
            await drain(Uploader(outbox, api))

    asyncio.run(with_the_right_token())
    assert web.point_timestamps("fridge-token") == [T0 + n for n in range(20)]


def test_backoff_starts_at_one_second_doubles_and_stops_at_the_cap():
    assert Uploader.__init__.__kwdefaults__["initial_backoff_s"] == INITIAL_BACKOFF_S == 1.0
    delays = [backoff_delay(failures, 1.0, 60.0) for failures in range(1, 10)]
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff_delay(10_000, 1.0, 60.0) == 60


def test_retries_against_an_unavailable_web_app_grow_and_are_capped(outbox):
    outbox.append("point", point(T0))

    async def go(url):
        async with WebApi(url, "token") as api:
            uploader = Uploader(outbox, api, initial_backoff_s=0.1, max_backoff_s=0.8)
            stop = asyncio.Event()
            task = asyncio.create_task(uploader.run(stop))
            await asyncio.sleep(4.5)
            stop.set()
            await task
            return uploader

    with StubWebServer(status=503, detail="down for maintenance") as stub:
        uploader = asyncio.run(go(stub.url))
    gaps = [
        later - earlier
        for earlier, later in zip(stub.request_times, stub.request_times[1:], strict=False)
    ]
    nominal = [min(0.8, 0.1 * 2**n) for n in range(len(gaps))]
    print("\nretry gaps (s):", " ".join(f"{gap:.2f}" for gap in gaps))
    assert len(gaps) >= 6
    for gap, cap in zip(gaps, nominal, strict=True):
        assert 0.75 * cap - 0.02 <= gap <= cap + 0.25  # jittered down, never past the cap
    assert "HTTP 503: down for maintenance" in uploader.last_error
    assert uploader.backlog == 1


def test_an_empty_outbox_sends_nothing_until_the_uploader_is_woken(outbox):
    accepting = StubWebServer(status=200, body=b'{"stored": 1, "duplicates": 0}')

    async def go():
        async with WebApi(accepting.url, "token") as api:
            uploader = Uploader(outbox, api)
            stop = asyncio.Event()
            task = asyncio.create_task(uploader.run(stop))
            await asyncio.sleep(0.5)
            assert accepting.request_times == []  # idle: no polling of the web app
            outbox.append("point", point(T0))
            uploader.wake()
            await until(lambda: uploader.backlog == 0, 5, "the point to go")
            await asyncio.sleep(0.3)
            stop.set()
            await task

    with accepting:
        asyncio.run(go())
    assert len(accepting.request_times) == 1


UPLOADER = textwrap.dedent(
    """
    import asyncio
    import sys
    from pathlib import Path

    from fermentrack.controller.outbox import Outbox
    from fermentrack.controller.uploader import Uploader
    from fermentrack.controller.web_api import WebApi


    async def main():
        outbox = Outbox(Path(sys.argv[1]))
        async with WebApi(sys.argv[2], sys.argv[3]) as api:
            uploader = Uploader(outbox, api, max_backoff_s=1)
            stop = asyncio.Event()
            task = asyncio.create_task(uploader.run(stop))
            print("sending", flush=True)
            while uploader.backlog:
                await asyncio.sleep(0.01)
            stop.set()
            await task


    asyncio.run(main())
    """
)


def test_an_uploader_killed_mid_batch_and_restarted_delivers_everything_once(web, tmp_path):
    token = web.add_device("fridge-kill")
    path = tmp_path / "dev-fridge-kill.outbox"
    outbox = Outbox(path)
    expected = [T0 + 10 * n for n in range(12_000)]
    for ts in expected:
        outbox.append("point", point(ts))
    outbox.close()
    randomness = random.Random(9)

    def start_uploader() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", UPLOADER, str(path), web.url, token],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline() == "sending\n"
        return process

    counts_after_kills = []
    for _ in range(4):
        uploader = start_uploader()
        time.sleep(randomness.uniform(0.05, 0.5))
        uploader.kill()
        uploader.wait()
        counts_after_kills.append(len(web.point_timestamps("fridge-kill")))
    assert any(0 < count < len(expected) for count in counts_after_kills)

    final = start_uploader()
    assert final.wait(timeout=120) == 0
    assert web.point_timestamps("fridge-kill") == expected  # none lost, none twice
    assert len(Outbox(Path(path))) == 0

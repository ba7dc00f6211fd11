"""`fermentrack try-chamber`: a simulated chamber with our firmware, its live state printed.

What the README's run command starts until the web stack exists. On its first start it wires the
simulated board's probes and relays and sets beer constant, through the same protocol commands a
controller would send, so the brewer sees control happen at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from fermentrack.brewpi.settings import ControlState
from fermentrack.brewpi.temperature import Dialect, format_temperature
from fermentrack.firmware.board import Board
from fermentrack.firmware.first_start import fit_if_new
from fermentrack.firmware.main import build_board, serve_board

FOLDER = Path("firmware") / "try-chamber"


def status_line(board: Board) -> str:
    report = board.temperature_report()
    fmt = board.control.constants.temp_format

    def degrees(value: int | None) -> str:
        text = None if value is None else format_temperature(value, fmt, 2)
        return (text or "--.--").rjust(6)

    elapsed = board.simulator.elapsed_s if board.simulator else board.now
    days, rest = divmod(elapsed, 86400)
    hours, rest = divmod(rest, 3600)
    state = ControlState(board.control.display_state).name.lower().replace("_", " ")
    outputs = "".join(
        label if device.active else "-"
        for label, device in (("H", board.control.heater), ("C", board.control.cooler))
    )
    gravity = f"SG {board.simulator.gravity:.3f}" if board.simulator else ""
    return (
        f"day {days:2d} {hours:02d}:{rest // 60:02d}  mode {board.control.settings.mode.value}  "
        f"beer {degrees(report.beer_temp)} (set {degrees(report.beer_set)})  "
        f"fridge {degrees(report.fridge_temp)} (set {degrees(report.fridge_set)})  "
        f"room {degrees(report.room_temp)}  [{outputs}] {state}  {gravity}"
    )


async def _show(board: Board, stop: asyncio.Event) -> None:
    while not stop.is_set():
        print(status_line(board), flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


def try_chamber(args, home: Path) -> int:
    board = build_board(home / FOLDER, Dialect(args.dialect), "sim")
    if fit_if_new(board, args.beer):
        print(f"first start: devices wired, beer constant at {args.beer:.1f} °C", flush=True)
    print(
        f"simulated chamber in {home / FOLDER}, {args.speed:g}x real time; Ctrl-C stops it",
        flush=True,
    )

    async def main() -> None:
        stop = asyncio.Event()
        shower = asyncio.create_task(_show(board, stop))
        try:
            await serve_board(board, speed=args.speed, tcp=args.tcp, stop=stop)
        finally:
            stop.set()
            await shower

    asyncio.run(main())
    print("stopped", file=sys.stderr)
    return 0

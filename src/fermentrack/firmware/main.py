"""`fermentrack firmware`: run our firmware for one chamber, serving TCP or a pseudo-terminal."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import signal
from pathlib import Path

from fermentrack.brewpi import mdns
from fermentrack.brewpi.temperature import Dialect
from fermentrack.firmware.advertise import Advertiser, Announcement, firmware_txt
from fermentrack.firmware.board import SIMULATOR_FILE, SIMULATOR_STATE_FILE, Board, run_board
from fermentrack.firmware.clock import Clock
from fermentrack.firmware.scenario import Scenario
from fermentrack.firmware.simulated_hardware import SimulatedBoard
from fermentrack.firmware.simulator import ChamberSimulator
from fermentrack.firmware.tiltbridge import TiltBridgePoster, bridge_name
from fermentrack.firmware.transport import serve_pty, serve_tcp

log = logging.getLogger(__name__)


def build_board(folder: Path, dialect: Dialect, hardware: str) -> Board:
    """A board on simulated hardware (scenario from simulator.json) or on a Pi's pins."""
    folder = Path(folder)
    if hardware == "sim":
        simulator = load_simulator(folder)
        return Board(folder, dialect, SimulatedBoard(simulator), simulator=simulator)
    from fermentrack.firmware.pi_hardware import PiBoard

    return Board(folder, dialect, PiBoard.from_environment())


def load_simulator(folder: Path) -> ChamberSimulator:
    """The chamber as the scenario file describes it, carrying on from its saved state if any."""
    scenario = Scenario.load(folder / SIMULATOR_FILE)
    try:
        state = json.loads((folder / SIMULATOR_STATE_FILE).read_text())
        return ChamberSimulator.resume(scenario, state)
    except FileNotFoundError:
        return ChamberSimulator(scenario)
    except ValueError as error:
        log.warning("simulator state in %s not used (%s): starting afresh", folder, error)
        return ChamberSimulator(scenario)


async def serve_board(
    board: Board,
    *,
    speed: float,
    tcp: tuple[str, int] | None = None,
    pty: Path | None = None,
    stop: asyncio.Event | None = None,
    on_ready=None,
    tiltbridge: TiltBridgePoster | None = None,
    advertiser: Advertiser | None = None,
) -> None:
    """Serve `board` and tick it until `stop` is set (SIGTERM and SIGINT set it); with
    `tiltbridge`, post the simulated beer's Tilt readings meanwhile; with `advertiser`, announce
    the TCP server by mDNS while it serves."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = terminal = posting = announcing = None
    try:
        if tcp is not None:
            server = await serve_tcp(board, *tcp)
            host, port = server.sockets[0].getsockname()[:2]
            where = f"tcp://{host}:{port}"
            if advertiser is not None:
                announcing = asyncio.create_task(advertiser.start(host, port), name="mdns")
        else:
            terminal = await serve_pty(board, pty)
            where = f"serial://{terminal.link_path} ({terminal.device_path})"
        print(f"firmware ({board.dialect.value}) listening on {where}", flush=True)
        if on_ready is not None:
            on_ready()
        clock = Clock(speed)
        if tiltbridge is not None:
            posting = asyncio.create_task(tiltbridge.follow(board, clock, stop), name="tilt")
        await run_board(board, clock, stop)
    finally:
        if announcing is not None:
            announcing.cancel()
            await asyncio.gather(announcing, return_exceptions=True)
            await advertiser.close()
        if posting is not None:
            posting.cancel()
            await asyncio.gather(posting, return_exceptions=True)
        if tiltbridge is not None:
            tiltbridge.close()
        if server is not None:
            server.close()
        if terminal is not None:
            loop.remove_reader(terminal.master_fd)
            terminal.close()
        board.store_if_dirty()
        board.save_simulator_state()
        log.info("firmware stopped")


def run_firmware(args) -> int:
    if args.hardware != "sim" and args.speed != 1.0:
        raise ValueError("--speed applies to simulated hardware only")
    board = build_board(args.eeprom, Dialect(args.dialect), args.hardware)
    tiltbridge = simulated_tiltbridge(args, board)
    if args.fit_chamber is not None:
        if args.hardware != "sim":
            raise ValueError("--fit-chamber applies to simulated hardware only")
        from fermentrack.firmware.first_start import fit_if_new

        if fit_if_new(board, args.fit_chamber):
            log.info("first start: chamber fitted, beer constant %.1f °C", args.fit_chamber)
    asyncio.run(
        serve_board(
            board,
            speed=args.speed,
            tcp=args.tcp,
            pty=args.pty,
            tiltbridge=tiltbridge,
            advertiser=firmware_advertiser(args),
        )
    )
    return 0


def firmware_advertiser(args) -> Advertiser | None:
    """The mDNS announcement of a firmware serving TCP, unless --no-mdns; its name is
    --mdns-name or the EEPROM folder's name in letters and digits. A firmware bound to a
    loopback address is announced only when --mdns-name asks for it: only this computer reaches
    it, so by default there is nothing to offer (and tests' firmwares stay quiet)."""
    if args.tcp is None or args.no_mdns:
        return None
    if args.mdns_name is None and _is_loopback(args.tcp[0]):
        return None
    name = args.mdns_name or mdns.mdns_name_from(Path(args.eeprom).resolve().name)
    return Advertiser(Announcement(name, firmware_txt(Dialect(args.dialect), args.hardware)))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def simulated_tiltbridge(args, board: Board) -> TiltBridgePoster | None:
    """The TiltBridge poster `--tiltbridge URL --tilt-colour COLOUR` asks for, or None."""
    if args.tiltbridge is None:
        if args.tilt_colour is not None:
            raise ValueError("--tilt-colour goes with --tiltbridge URL")
        return None
    if args.hardware != "sim":
        raise ValueError("--tiltbridge applies to simulated hardware only")
    if args.tilt_colour is None:
        raise ValueError("--tiltbridge needs --tilt-colour: the colour of the simulated Tilt")
    tiltbridge = TiltBridgePoster(
        args.tiltbridge,
        args.tilt_colour,
        bridge_name(args.eeprom),
        every_s=args.tilt_every,
        seed=board.simulator.scenario.seed,
    )
    log.info(
        "posting the %s Tilt as TiltBridge %s to %s every %d simulated s",
        tiltbridge.colour,
        tiltbridge.mdns_id,
        tiltbridge.url,
        tiltbridge.every_s,
    )
    return tiltbridge

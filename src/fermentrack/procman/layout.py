"""Names and paths of the process stack (interfaces.md §4): watchers, log files, circus'
endpoints and pid file. One place for each; everything else imports them."""

from __future__ import annotations

from pathlib import Path

from fermentrack import config

WEB_WATCHER = "Fermentrack"
SPAWNER_WATCHER = "brewpi-spawner"
STATS_WATCHER = "circusd-stats"
CONTROLLER_PREFIX = "dev-"
FIRMWARE_PREFIX = "fw-"
TILT_SCANNER_WATCHER = "tilt-scanner"  # one per host, while a Tilt listens over Bluetooth
# Integrations, one process each per host while the brewery has configured them.
PUSH_WATCHER = "push"  # push targets (Brewfather, ThingSpeak, ...)
MQTT_WATCHER = "mqtt"  # the MQTT bridge with Home Assistant discovery
ALERTS_WATCHER = "alerts"  # alert rules, checked and sent
INTEGRATION_WATCHERS = frozenset({TILT_SCANNER_WATCHER, PUSH_WATCHER, MQTT_WATCHER, ALERTS_WATCHER})
STACK_MARKER = "FERMENTRACK_STACK"  # in every watcher's environment: the home it belongs to


def controller_watcher(device: str) -> str:
    return CONTROLLER_PREFIX + config.check_device_name(device)


def firmware_watcher(device: str) -> str:
    return FIRMWARE_PREFIX + config.check_device_name(device)


def is_device_watcher(name: str) -> bool:
    """A watcher the spawner adds and removes as the database asks: a device's controller or
    firmware, the Tilt scanner or an integration."""
    return name.startswith((CONTROLLER_PREFIX, FIRMWARE_PREFIX)) or name in INTEGRATION_WATCHERS


class Layout:
    """Where the stack of one FERMENTRACK_HOME keeps its files."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or config.home()).resolve()
        self.run = self.home / "run"
        self.log = self.home / "log"

    def make_folders(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log.mkdir(exist_ok=True)
        self.run.mkdir(exist_ok=True)
        self.run.chmod(0o700)  # circus' endpoints accept any command from who can reach them

    @property
    def circus_ini(self) -> Path:
        return self.home / "circus.ini"

    @property
    def circus_logging(self) -> Path:
        return self.home / "circus-logging.json"

    @property
    def pidfile(self) -> Path:
        return self.run / "circusd.pid"

    @property
    def start_lock(self) -> Path:
        return self.run / "start.lock"

    def endpoint(self, which: str) -> str:
        return f"ipc://{self.run / f'circus-{which}.sock'}"

    @property
    def circusd_log(self) -> Path:
        return self.log / "circusd.log"

    @property
    def web_log(self) -> Path:
        return self.log / "fermentrack.log"

    @property
    def spawner_log(self) -> Path:
        return self.log / "fermentrack-brewpi-spawner.log"

    def watcher_log(self, watcher: str, stream: str) -> Path:
        """`log/dev-<name>-stdout.log` and the like."""
        return self.log / f"{watcher}-{stream}.log"

    def firmware_pty(self, device: str) -> Path:
        """The serial port our firmware opens for a simulated chamber run on this host."""
        return self.run / f"{firmware_watcher(device)}.tty"


def file_stream(path: Path) -> dict:
    """A circus output stream into `path`, rotated at 2 MB with the last 5 kept."""
    return {
        "class": "FileStream",
        "filename": str(path),
        "max_bytes": config.LOG_ROTATE_BYTES,
        "backup_count": config.LOG_ROTATE_KEEP,
    }

"""Our firmware's EEPROM: settings, constants and device assignments in one JSON file.

Written atomically (temporary file, fsync, rename, fsync of the folder), so a kill at any moment
leaves either the old file or the new one, never half of one. A missing or unreadable file is
what a blank EEPROM is to BrewPi firmware: the caller starts in safe mode (§8.8).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fermentrack.brewpi.devices import DeviceDefinition, DeviceFunction, DeviceHardware
from fermentrack.brewpi.settings import ControlConstants, ControlSettings, Mode
from fermentrack.brewpi.temperature import TempFormat

FORMAT_VERSION = 1
FILE_NAME = "eeprom.json"

log = logging.getLogger(__name__)


@dataclass
class EepromContents:
    settings: ControlSettings
    constants: ControlConstants
    devices: list[DeviceDefinition] = field(default_factory=list)


class Eeprom:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME
        self.file = OwnedFile(self.path)

    def load(self) -> EepromContents | None:
        """The stored contents, or None when there are none or they cannot be read."""
        self.file.take()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.warning("EEPROM %s is unreadable (%s): starting in safe mode", self.path, error)
            return None
        try:
            if data.get("format_version") != FORMAT_VERSION:
                raise ValueError(
                    f"format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}"
                )
            settings = dict(data["settings"])
            settings["mode"] = Mode(settings["mode"])
            constants = dict(data["constants"])
            constants["temp_format"] = TempFormat(constants["temp_format"])
            return EepromContents(
                settings=ControlSettings(**settings),
                constants=ControlConstants(**constants),
                devices=[_device(device) for device in data["devices"]],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            log.warning("EEPROM %s does not hold our format (%s): safe mode", self.path, error)
            return None

    def save(self, contents: EepromContents) -> None:
        data = {
            "format_version": FORMAT_VERSION,
            "settings": asdict(contents.settings),
            "constants": asdict(contents.constants),
            "devices": [asdict(device) for device in contents.devices],
        }
        self.file.write(json.dumps(data, indent=1, sort_keys=True))

    def erase(self) -> None:
        self.path.unlink(missing_ok=True)
        self.file.take()


def _device(stored: dict) -> DeviceDefinition:
    defn = DeviceDefinition(**stored)
    defn.function = DeviceFunction(defn.function)
    defn.hardware = DeviceHardware(defn.hardware)
    return defn


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class OwnedFile:
    """A file this firmware writes atomically, left alone once another process has replaced it:
    a restore from a backup writes the firmware's files while the old firmware still runs, and
    what it would store on its way out must not undo the restore."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.given_up = False
        self.take()

    def take(self) -> None:
        """The file as it is now is ours (read at boot, or erased by us)."""
        self.seen = _identity(self.path)

    def write(self, text: str) -> bool:
        if not self.given_up and _identity(self.path) != self.seen:
            self.given_up = True
            log.warning(
                "%s was replaced by another process (a restore?): this firmware leaves it alone",
                self.path,
            )
        if self.given_up:
            return False
        write_atomically(self.path, text)
        self.seen = _identity(self.path)
        return True


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)

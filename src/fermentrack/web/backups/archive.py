"""The backup archive: one `fermentrack-<home>-YYYYMMDD-HHMMSS.tar.gz` holding

- `manifest.json` first: what made it (archive format, Fermentrack version, database vendor),
  when (UTC), each app's applied migrations, the rows of each model, and every other member
  with its size and sha256;
- `database/<app>.<model>.jsonl`: the database as data (database.py);
- `firmware/...`: our firmware's files (EEPROM, simulator scenario and state) as they are in
  FERMENTRACK_HOME/firmware/.

Archives are written under a temporary name and renamed, so a half-written one never shows.
Reading checks each member against the manifest before anything is changed.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fermentrack import __version__

ARCHIVE_KIND = "fermentrack-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_FOLDER = "database"
FIRMWARE_FOLDER = "firmware"
SUFFIX = ".tar.gz"
NAME_PATTERN = re.compile(r"^fermentrack-.+-\d{8}-\d{6}(-\d+)?\.tar\.gz$")
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
FIRMWARE_FILE_MAX_BYTES = 4 * 1024 * 1024  # an EEPROM or scenario file is a few kB
_SAFE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
COPY_CHUNK = 1024 * 1024
# What a cut-short or corrupted .tar.gz raises while it is read (a full disk is not one).
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


class BackupRefused(ValueError):
    """The archive cannot be made or restored; the message says why in one sentence."""


@dataclass(frozen=True)
class MemberFile:
    name: str  # path inside the archive
    size: int
    sha256: str


@dataclass
class Manifest:
    fermentrack_version: str
    created_at: str  # UTC, ISO 8601
    home: str
    database_vendor: str
    migrations: dict[str, list[str]]
    counts: dict[str, int]
    files: list[MemberFile]
    nightly: bool = False
    kind: str = ARCHIVE_KIND
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, archive_name: str) -> Manifest:
        not_ours = BackupRefused(f"{archive_name} is not a Fermentrack backup (its manifest)")
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise not_ours from None
        if not isinstance(raw, dict) or raw.get("kind") != ARCHIVE_KIND:
            raise not_ours
        format_version = raw.get("format_version")
        if not isinstance(format_version, int):
            raise not_ours
        if format_version > FORMAT_VERSION:
            raise BackupRefused(
                f"this backup was made by Fermentrack {raw.get('fermentrack_version', '?')} in "
                f"archive format {format_version}; this is {__version__}, which reads format "
                f"{FORMAT_VERSION}: update first"
            )
        try:
            manifest = cls(
                fermentrack_version=str(raw["fermentrack_version"]),
                created_at=str(raw["created_at"]),
                home=str(raw["home"]),
                database_vendor=str(raw["database_vendor"]),
                migrations={
                    str(app): [str(name) for name in names]
                    for app, names in raw["migrations"].items()
                },
                counts={str(label): int(count) for label, count in raw["counts"].items()},
                files=[
                    MemberFile(str(f["name"]), int(f["size"]), str(f["sha256"]))
                    for f in raw["files"]
                ],
                nightly=bool(raw.get("nightly", False)),
                format_version=format_version,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BackupRefused(f"{archive_name} is damaged: its manifest is incomplete") from None
        return manifest

    @property
    def created(self) -> datetime.datetime | None:
        try:
            return datetime.datetime.fromisoformat(self.created_at)
        except ValueError:
            return None

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


def version_tuple(version: str) -> tuple[int, ...]:
    """'0.3.0' -> (0, 3, 0); a part that is not a number ends the comparison there."""
    parts = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def home_label(home: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", home.name).strip("-.") or "home"


def archive_name(home: Path, when: datetime.datetime) -> str:
    return f"fermentrack-{home_label(home)}-{when.strftime('%Y%m%d-%H%M%S')}{SUFFIX}"


def is_archive_name(name: str) -> bool:
    return bool(NAME_PATTERN.match(name))


def safe_member_path(name: str, folder: str) -> Path | None:
    """`name`'s path below `folder`/ when it is a plain relative path there, else None."""
    parts = name.split("/")
    if len(parts) < 2 or parts[0] != folder:
        return None
    if not all(_SAFE_PART.match(part) for part in parts[1:]):
        return None
    return Path(*parts[1:])


def firmware_files(firmware_dir: Path) -> Iterator[tuple[str, bytes]]:
    """(archive name, contents) of every regular file under firmware/, leaving out the
    firmware's temporary files (dot names) and anything that is not a plain file."""
    if not firmware_dir.is_dir():
        return
    for path in sorted(firmware_dir.rglob("*")):
        relative = path.relative_to(firmware_dir)
        name = "/".join((FIRMWARE_FOLDER, *relative.parts))
        if (
            path.is_symlink()
            or not path.is_file()
            or safe_member_path(name, FIRMWARE_FOLDER) is None
        ):
            continue
        try:
            data = path.read_bytes()  # our firmware replaces its files whole, never in place
        except FileNotFoundError:  # removed while we looked
            continue
        if len(data) <= FIRMWARE_FILE_MAX_BYTES:
            yield name, data


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_archive(
    target: Path, manifest: Manifest, database_files: list[tuple[str, Path]], extra: list
) -> None:
    """Write the archive to a temporary name beside `target`, then rename it into place.
    `database_files`: (archive name, file on disk); `extra`: (archive name, bytes)."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        with (
            os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as raw,
            tarfile.open(
                fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT
            ) as tar,
        ):
            stamp = manifest.created.timestamp() if manifest.created else 0
            _add_bytes(tar, MANIFEST_NAME, manifest.to_json(), stamp)
            for name, path in database_files:
                info = tarfile.TarInfo(name)
                info.size = path.stat().st_size
                info.mtime = stamp
                info.mode = 0o600
                with open(path, "rb") as file:
                    tar.addfile(info, file)
            for name, data in extra:
                _add_bytes(tar, name, data, stamp)
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
        _fsync_folder(target.parent)
    finally:
        partial.unlink(missing_ok=True)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, stamp: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = stamp
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def read_manifest(path: Path) -> Manifest:
    """The manifest of the archive at `path` (its first member), or BackupRefused."""
    with _open(path, path.name) as tar:
        return _manifest_of(tar, path.name)


def _open(path: Path, name: str) -> tarfile.TarFile:
    not_ours = f"{name} is not a Fermentrack backup (expected a .tar.gz made by Fermentrack)"
    try:
        with open(path, "rb") as file:
            magic = file.read(2)
    except IsADirectoryError:
        raise BackupRefused(f"{path} is a folder, not a backup file") from None
    except FileNotFoundError:
        raise BackupRefused(f"{path} does not exist") from None
    if magic != b"\x1f\x8b":
        raise BackupRefused(not_ours)
    try:
        return tarfile.open(path, mode="r:gz")
    except ARCHIVE_ERRORS:
        raise BackupRefused(f"{name} is damaged: it is not a whole .tar.gz archive") from None


def _manifest_of(tar: tarfile.TarFile, name: str) -> Manifest:
    try:
        first = tar.next()
    except ARCHIVE_ERRORS:
        raise BackupRefused(f"{name} is damaged: it is not a whole .tar.gz archive") from None
    if first is None or first.name != MANIFEST_NAME or not first.isfile():
        raise BackupRefused(f"{name} is not a Fermentrack backup (no manifest.json at its start)")
    if first.size > MANIFEST_MAX_BYTES:
        raise BackupRefused(f"{name} is not a Fermentrack backup (its manifest is too large)")
    try:
        data = tar.extractfile(first).read()
    except ARCHIVE_ERRORS:
        raise BackupRefused(f"{name} is damaged: its manifest cannot be read") from None
    return Manifest.from_json(data, name)


@dataclass
class CheckedArchive:
    """An archive whose every member matched the manifest: database files unpacked into
    `folder`, firmware files in memory."""

    manifest: Manifest
    folder: Path
    firmware: dict[Path, bytes] = field(default_factory=dict)


def unpack_checked(
    path: Path, folder: Path, check_manifest, shown_as: str | None = None
) -> CheckedArchive:
    """Check the archive at `path` member by member against its manifest, unpacking the
    database files into `folder`. `check_manifest(manifest)` runs first and may refuse
    (a newer version, unknown migrations) before the rest is read. BackupRefused, saying
    what is wrong, when any member is missing, extra or not as the manifest says."""
    name = shown_as or path.name
    with _open(path, name) as tar:
        manifest = _manifest_of(tar, name)
        check_manifest(manifest)
        expected = {member.name: member for member in manifest.files}
        checked = CheckedArchive(manifest, folder)
        seen: set[str] = set()
        manifest_pending = True
        try:
            for info in tar:
                if info.name == MANIFEST_NAME and not seen and manifest_pending:
                    manifest_pending = False  # TarFile's iteration starts over at the manifest
                    continue
                member = expected.get(info.name)
                if member is None or info.name in seen or not info.isfile():
                    raise BackupRefused(f"{name} is damaged: {info.name} is not in its manifest")
                seen.add(info.name)
                source = tar.extractfile(info)
                digest = hashlib.sha256()
                size = 0
                database_path = safe_member_path(info.name, DATABASE_FOLDER)
                firmware_path = safe_member_path(info.name, FIRMWARE_FOLDER)
                if database_path is not None and len(database_path.parts) == 1:
                    with open(folder / database_path, "wb") as out:
                        while chunk := source.read(COPY_CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
                elif firmware_path is not None and info.size <= FIRMWARE_FILE_MAX_BYTES:
                    data = source.read()
                    digest.update(data)
                    size = len(data)
                    checked.firmware[firmware_path] = data
                else:
                    raise BackupRefused(f"{name} is damaged: it holds an unexpected {info.name}")
                if size != member.size or digest.hexdigest() != member.sha256:
                    raise BackupRefused(
                        f"{name} is damaged: {info.name} does not match its checksum"
                    )
        except ARCHIVE_ERRORS:
            raise BackupRefused(f"{name} is damaged: it is cut short or corrupted") from None
        missing = sorted(set(expected) - seen)
        if missing:
            raise BackupRefused(f"{name} is damaged: {missing[0]} is missing from it")
    return checked


def copy_to(source, target: Path) -> None:
    """Stream an uploaded file (any object with .read) to `target`."""
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out, COPY_CHUNK)


def write_files_atomically(folder: Path, files: dict[Path, bytes]) -> None:
    """Replace each `folder`/<relative> of `files` with its bytes, all or none: every file is
    first written whole beside its place (where a full disk or a blocked folder fails, with
    nothing replaced yet), then each is renamed into place, which does not fail on one disk."""
    staged: list[tuple[Path, Path]] = []
    try:
        for relative, data in sorted(files.items()):
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.restore")
            staged.append((temporary, path))
            with open(temporary, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    for parent in {path.parent for _, path in staged}:
        _fsync_folder(parent)

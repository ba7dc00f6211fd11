"""Profile files: a profile written as CSV or JSON (format version 1), and read back.

README.md, "Fermentation profile files", describes both formats for people. Reading checks
everything and raises ProfileFileError with every problem found, each naming its line (CSV) or
point (JSON), so a brewer can fix a file in one go.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field

from fermentrack.brewpi.profile_schedule import Point, format_offset, parse_offset
from fermentrack.web.profiles.models import FermentationProfile, point_problems

FORMAT_NAME = "fermentrack-profile"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 256 * 1024
MAX_NAME_LENGTH = 128
_TEMPERATURE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_UNITS = {"c": "C", "°c": "C", "f": "F", "°f": "F"}


@dataclass
class ProfileFile:
    """What a profile file holds: everything needed to make the profile again."""

    name: str
    unit: str
    notes: str = ""
    points: list[Point] = field(default_factory=list)

    @classmethod
    def of(cls, profile: FermentationProfile) -> ProfileFile:
        return cls(profile.name, profile.temp_format, profile.notes, profile.point_list())


class ProfileFileError(ValueError):
    """A profile file that cannot be imported; `problems` lists every reason, one a line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_temperature(text: str) -> float:
    """A temperature typed by a person: "18", "18.5", "-1.5", or with a decimal comma "18,5"."""
    cleaned = (text or "").strip()
    if not _TEMPERATURE.match(cleaned):
        raise ValueError(f"temperature {text!r} is not a number: write it like 18.5")
    return round(float(cleaned.replace(",", ".")), 2)


def _unit(text: str) -> str:
    unit = _UNITS.get(text.strip().lower())
    if unit is None:
        raise ValueError(f"unit {text!r} is not C or F")
    return unit


def _name_problem(name: str) -> str | None:
    if not name.strip():
        return "the profile has no name"
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is {len(name)} characters long; at most {MAX_NAME_LENGTH} fit"
    return None


# -- writing ---------------------------------------------------------------------------------


def to_csv(profile: ProfileFile) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([FORMAT_NAME, FORMAT_VERSION])
    writer.writerow(["name", profile.name])
    writer.writerow(["unit", profile.unit])
    writer.writerow(["notes", profile.notes])
    writer.writerow(["offset", "temperature"])
    for offset, temperature in profile.points:
        writer.writerow([format_offset(offset), f"{temperature:.2f}"])
    return buffer.getvalue()


def to_json(profile: ProfileFile) -> str:
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": profile.name,
        "unit": profile.unit,
        "notes": profile.notes,
        "points": [
            {"offset_s": offset, "offset": format_offset(offset), "temperature": temperature}
            for offset, temperature in profile.points
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- reading ---------------------------------------------------------------------------------


def read_profile_file(text: str, name: str = "") -> ProfileFile:
    """A CSV or JSON profile file (JSON when it starts with "{" or "["), or ProfileFileError.

    A `name` given here replaces the file's own.
    """
    text = text.removeprefix("\ufeff")  # spreadsheets like to start UTF-8 files with a BOM
    if text.lstrip().startswith(("{", "[")):
        return read_json(text, name)
    return read_csv(text, name)


def _version_problem(value: object, where: str) -> str | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{where}: version {value!r} is not a whole number"
    if value > FORMAT_VERSION:
        return (
            f"{where}: format version {value} comes from a newer Fermentrack; "
            f"this one reads version {FORMAT_VERSION}"
        )
    if value < 1:
        return f"{where}: there is no format version {value}; the first is 1"
    return None


def _finish(
    name: str,
    unit: str | None,
    notes: str,
    rows: list[tuple[str, int, float]],
    problems: list[str],
) -> ProfileFile:
    """The file's profile once every check passed; `unit` is None when the file's was unusable."""
    name_problem = _name_problem(name)
    if name_problem:
        problems.insert(0, name_problem)
    # With no readable point, the problems already listed say why; do not add "no points".
    if unit is not None and (rows or not problems):
        problems.extend(point_problems(rows, unit))
    if problems or unit is None:
        raise ProfileFileError(problems)
    points = [(offset, temperature) for _, offset, temperature in rows]
    return ProfileFile(name.strip(), unit, notes, points)


def read_csv(text: str, name: str = "") -> ProfileFile:
    magic = f"{FORMAT_NAME},{FORMAT_VERSION}"
    reader = csv.reader(io.StringIO(text))
    problems: list[str] = []
    header: dict[str, str] = {}
    rows: list[tuple[str, int, float]] = []
    stage = "first line"
    try:
        for row in reader:
            line = f"line {reader.line_num}"
            cells = [cell.strip() for cell in row]
            while cells and not cells[-1]:
                cells.pop()  # spreadsheets pad rows with empty cells
            if not cells:
                continue
            if stage == "first line":
                if cells[0].lower() != FORMAT_NAME:
                    raise ProfileFileError(
                        [
                            f"{line}: expected {magic!r}, the first line of every profile file, "
                            f"but found {','.join(row)!r}"
                        ]
                    )
                problem = _version_problem(cells[1] if len(cells) > 1 else None, line)
                if problem:
                    raise ProfileFileError([problem])
                stage = "header"
            elif stage == "header":
                key = cells[0].lower()
                if key == "offset":
                    stage = "points"
                elif key in ("name", "unit", "notes"):
                    if len(cells) > 2:
                        problems.append(
                            f"{line}: the {key} has a comma in it; put the {key} in double quotes"
                        )
                    header[key] = cells[1] if len(cells) > 1 else ""
                else:
                    problems.append(
                        f"{line}: {cells[0]!r} is not a profile field; expected name, unit, "
                        "notes, then the line 'offset,temperature'"
                    )
            else:
                if len(cells) != 2:
                    problems.append(
                        f"{line}: expected an offset and a temperature, such as '3d 12h,18.5', "
                        f"but found {','.join(row)!r}"
                    )
                    continue
                before = len(problems)
                try:
                    offset = parse_offset(cells[0])
                except ValueError as error:
                    problems.append(f"{line}: {error}")
                try:
                    temperature = parse_temperature(cells[1])
                except ValueError as error:
                    problems.append(f"{line}: {error}")
                if len(problems) == before:
                    rows.append((line, offset, temperature))
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: the CSV cannot be read ({error})")
    if stage == "first line":
        raise ProfileFileError([f"the file is empty: a profile file starts with {magic!r}"])
    if stage == "header":
        problems.append("there is no line 'offset,temperature': the points follow that line")
    unit = None
    if "unit" not in header:
        problems.append("the file says no unit: add a line 'unit,C' or 'unit,F'")
    else:
        try:
            unit = _unit(header["unit"])
        except ValueError as error:
            problems.append(f"{error}: write 'unit,C' or 'unit,F'")
    return _finish(name or header.get("name", ""), unit, header.get("notes", ""), rows, problems)


def read_json(text: str, name: str = "") -> ProfileFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileFileError(
            [f"line {error.lineno}, column {error.colno}: this is not valid JSON ({error.msg})"]
        ) from None
    if not isinstance(document, dict):
        raise ProfileFileError(['expected a JSON object: {"format": "fermentrack-profile", ...}'])
    if document.get("format") != FORMAT_NAME:
        raise ProfileFileError(
            [f'"format" is {document.get("format")!r}; a profile file says {FORMAT_NAME!r}']
        )
    version_problem = _version_problem(document.get("version"), '"version"')
    if version_problem:
        raise ProfileFileError([version_problem])
    problems: list[str] = []
    if not name:
        name = document.get("name")
        if not isinstance(name, str):
            problems.append('"name" must be text, such as "Ale 18 to 21"')
            name = "?"
    unit = None
    try:
        unit = _unit(document.get("unit") if isinstance(document.get("unit"), str) else "")
    except ValueError:
        problems.append(f'"unit" is {document.get("unit")!r}; expected "C" or "F"')
    notes = document.get("notes", "")
    if not isinstance(notes, str):
        problems.append('"notes" must be text')
        notes = ""
    points = document.get("points")
    rows: list[tuple[str, int, float]] = []
    if not isinstance(points, list):
        problems.append('"points" must be a list of {"offset_s": ..., "temperature": ...}')
        points = []
    for number, point in enumerate(points, start=1):
        label = f"point {number}"
        before = len(problems)
        if not isinstance(point, dict):
            problems.append(f'{label}: expected {{"offset_s": 0, "temperature": 18.0}}')
            continue
        offset = _json_offset(point, label, problems)
        temperature = point.get("temperature")
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            problems.append(f"{label}: temperature {temperature!r} is not a number, such as 18.5")
        elif not math.isfinite(temperature):
            problems.append(f"{label}: temperature {temperature!r} is not a finite number")
        if len(problems) == before and offset is not None:
            rows.append((label, offset, round(float(temperature), 2)))
    return _finish(name, unit, notes, rows, problems)


def _json_offset(point: dict, label: str, problems: list[str]) -> int | None:
    """A point's offset from "offset_s" (seconds) or, failing that, "offset" ("3d 12h")."""
    if "offset_s" in point:
        seconds = point["offset_s"]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            problems.append(f"{label}: offset_s {seconds!r} is not a whole number of seconds ≥ 0")
            return None
        return seconds
    if isinstance(point.get("offset"), str):
        try:
            return parse_offset(point["offset"])
        except ValueError as error:
            problems.append(f"{label}: {error}")
            return None
    problems.append(f'{label}: no "offset_s" (seconds) or "offset" (such as "3d 12h")')
    return None

"""Profile files: a profile written as CSV or JSON, and read back.

README.md, "Fermentation profile files", describes both formats for people. Version 2 adds a
point's hold (docs/interfaces-additions.md §1): CSV has five more columns after the temperature
(hold_until, hold_gravity, hold_tolerance, hold_for, hold_max), JSON the point's hold_* keys. A
profile without holds is written as version 1, so older readers still take it. Reading checks
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
from fermentrack.gravity.holds import HOLD_KINDS, Hold, gravity_words
from fermentrack.web.profiles.models import FermentationProfile, hold_problems, point_problems

FORMAT_NAME = "fermentrack-profile"
FORMAT_VERSION = 2  # 2: points may carry holds; 1: points only
HOLD_COLUMNS = ["hold_until", "hold_gravity", "hold_tolerance", "hold_for", "hold_max"]
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
    holds: dict[int, Hold] = field(default_factory=dict)  # by the offset of their point

    @classmethod
    def of(cls, profile: FermentationProfile) -> ProfileFile:
        return cls(
            profile.name,
            profile.temp_format,
            profile.notes,
            profile.point_list(),
            profile.hold_list(),
        )

    @property
    def version(self) -> int:
        """The oldest format version that carries this profile."""
        return 2 if self.holds else 1


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


def _number(text: str, what: str, example: str) -> float:
    cleaned = (text or "").strip()
    if not _TEMPERATURE.match(cleaned):
        raise ValueError(f"{what} {text!r} is not a number: write it like {example}")
    return float(cleaned.replace(",", "."))


def read_hold(
    until: str = "",
    gravity: str = "",
    tolerance: str = "",
    for_text: str = "",
    max_text: str = "",
) -> tuple[Hold | None, list[str]]:
    """A hold from text as people type it (the CSV cells, the editor's fields): the condition
    (gravity_at_most or gravity_stable; empty for none), the gravity (SG, 1.012), the tolerance
    (gravity points, 2), how long steady and the time limit (offsets such as 1d, 3d 12h).
    Answers the hold (None when there is none) and the problems, in words."""
    kind = (until or "").strip().lower()
    values = {"gravity": gravity, "tolerance": tolerance, "for": for_text, "at most": max_text}
    given = [name for name, text in values.items() if (text or "").strip()]
    if not kind:
        if given:
            return None, [
                f"the hold's {' and '.join(given)} {'is' if len(given) == 1 else 'are'} given "
                f"but not what to hold until: choose {' or '.join(HOLD_KINDS)}, or clear them"
            ]
        return None, []
    if kind not in HOLD_KINDS:
        choices = " or ".join(HOLD_KINDS)
        return None, [f"hold until {until.strip()!r} is not a condition: write {choices}"]
    problems = []
    parsed: dict[str, object] = {}
    readers = {
        "gravity": lambda text: _number(text, "hold gravity", "1.012"),
        "tolerance": lambda text: _number(text, "hold tolerance", "2 (gravity points)"),
        "for": parse_offset,
        "at most": parse_offset,
    }
    for name, text in values.items():
        if (text or "").strip():
            try:
                parsed[name] = readers[name](text)
            except ValueError as error:
                problems.append(f"the hold's {name}: {error}")
    if problems:
        return None, problems
    hold = Hold(
        until=kind,
        max_s=parsed.get("at most"),
        gravity=parsed.get("gravity"),
        tolerance=parsed.get("tolerance"),
        for_s=parsed.get("for"),
    )
    problems = hold.problems()
    return (None, problems) if problems else (hold, [])


def hold_cells(hold: Hold | None) -> list[str]:
    """The hold as the five text cells `read_hold` reads (all empty for no hold)."""
    if hold is None:
        return ["", "", "", "", ""]
    fields = hold.fields()
    return [
        hold.until,
        "" if fields["hold_gravity"] is None else gravity_words(fields["hold_gravity"]),
        "" if fields["hold_tolerance"] is None else f"{fields['hold_tolerance']:g}",
        "" if fields["hold_for_s"] is None else format_offset(fields["hold_for_s"]),
        format_offset(hold.max_s),
    ]


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
    writer.writerow([FORMAT_NAME, profile.version])
    writer.writerow(["name", profile.name])
    writer.writerow(["unit", profile.unit])
    writer.writerow(["notes", profile.notes])
    writer.writerow(["offset", "temperature", *(HOLD_COLUMNS if profile.holds else [])])
    for offset, temperature in profile.points:
        row = [format_offset(offset), f"{temperature:.2f}"]
        if profile.holds:
            row += hold_cells(profile.holds.get(offset))
        writer.writerow(row)
    return buffer.getvalue()


def _json_point(offset: int, temperature: float, hold: Hold | None) -> dict:
    point = {"offset_s": offset, "offset": format_offset(offset), "temperature": temperature}
    if hold is not None:
        fields = hold.fields()
        point |= {key: value for key, value in fields.items() if value is not None}
        point["hold_max"] = format_offset(hold.max_s)
        if fields["hold_for_s"] is not None:
            point["hold_for"] = format_offset(fields["hold_for_s"])
    return point


def to_json(profile: ProfileFile) -> str:
    document = {
        "format": FORMAT_NAME,
        "version": profile.version,
        "name": profile.name,
        "unit": profile.unit,
        "notes": profile.notes,
        "points": [
            _json_point(offset, temperature, profile.holds.get(offset))
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
    rows: list[tuple[str, int, float, Hold | None]],
    problems: list[str],
) -> ProfileFile:
    """The file's profile once every check passed; `unit` is None when the file's was unusable."""
    name_problem = _name_problem(name)
    if name_problem:
        problems.insert(0, name_problem)
    # With no readable point, the problems already listed say why; do not add "no points".
    if unit is not None and (rows or not problems):
        problems.extend(point_problems([row[:3] for row in rows], unit))
    if problems or unit is None:
        raise ProfileFileError(problems)
    points = [(offset, temperature) for _, offset, temperature, _ in rows]
    holds = {offset: hold for _, offset, _, hold in rows if hold is not None}
    return ProfileFile(name.strip(), unit, notes, points, holds)


def read_csv(text: str, name: str = "") -> ProfileFile:
    magic = f"{FORMAT_NAME},{FORMAT_VERSION}"
    reader = csv.reader(io.StringIO(text))
    problems: list[str] = []
    header: dict[str, str] = {}
    rows: list[tuple[str, int, float, Hold | None]] = []
    stage = "first line"
    columns = 2  # the header line says whether the points carry holds
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
                    columns = 2 + len(HOLD_COLUMNS) if len(cells) > 2 else 2
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
                if not 2 <= len(cells) <= columns:
                    holds = f", then {', '.join(HOLD_COLUMNS)}" if columns > 2 else ""
                    problems.append(
                        f"{line}: expected an offset and a temperature, such as '3d 12h,18.5'"
                        f"{holds}, but found {','.join(row)!r}"
                    )
                    continue
                before = len(problems)
                hold, hold_errors = read_hold(*cells[2:])
                problems.extend(f"{line}: {problem}" for problem in hold_errors)
                try:
                    offset = parse_offset(cells[0])
                except ValueError as error:
                    problems.append(f"{line}: {error}")
                try:
                    temperature = parse_temperature(cells[1])
                except ValueError as error:
                    problems.append(f"{line}: {error}")
                if len(problems) == before:
                    rows.append((line, offset, temperature, hold))
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
    rows: list[tuple[str, int, float, Hold | None]] = []
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
        hold = _json_hold(point, label, problems)
        if len(problems) == before and offset is not None:
            rows.append((label, offset, round(float(temperature), 2), hold))
    return _finish(name, unit, notes, rows, problems)


def _json_hold(point: dict, label: str, problems: list[str]) -> Hold | None:
    """A point's hold from its hold_* keys (times as hold_for_s / hold_max_s seconds or, failing
    those, hold_for / hold_max text), or None when it has no hold_until."""
    if point.get("hold_until") in (None, ""):
        return None
    fields = {key: point.get(key) for key in ("hold_until", "hold_gravity", "hold_tolerance")}
    for key in ("hold_for", "hold_max"):
        seconds, text = point.get(f"{key}_s"), point.get(key)
        if seconds is None and isinstance(text, str):
            try:
                seconds = parse_offset(text)
            except ValueError as error:
                problems.append(f"{label}: {key}: {error}")
                return None
        fields[f"{key}_s"] = seconds
    hold = Hold.from_fields(fields)
    errors = hold_problems(label, hold)
    problems.extend(errors)
    return None if errors else hold


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

"""Profile files: export as CSV or JSON, import them back, and every import problem shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fermentrack.brewpi.profile_schedule import DAY, HOUR
from fermentrack.web.profiles import formats
from fermentrack.web.profiles.formats import ProfileFile, ProfileFileError
from fermentrack.web.profiles.models import FermentationProfile

from .conftest import ALE_POINTS, make_profile

pytestmark = pytest.mark.django_db

ALE_CSV = """fermentrack-profile,1
name,Ale
unit,C
notes,pitch cool
offset,temperature
0h,18.00
3d,18.00
5d,21.00
7d,21.00
"""


def import_text(client, text: str, name: str = ""):
    return client.post(reverse("profile_import"), {"text": text, "name": name})


# -- the formats -----------------------------------------------------------------------------


def test_a_profile_exports_as_csv_with_a_version_line_and_readable_offsets(ale):
    assert formats.to_csv(ProfileFile.of(ale)) == ALE_CSV


def test_a_profile_exports_as_versioned_json_with_seconds_and_readable_offsets(ale):
    document = json.loads(formats.to_json(ProfileFile.of(ale)))
    assert document["format"] == "fermentrack-profile" and document["version"] == 1
    assert document["name"] == "Ale" and document["unit"] == "C"
    assert document["points"][2] == {"offset_s": 5 * DAY, "offset": "5d", "temperature": 21.0}


@pytest.mark.parametrize("write", [formats.to_csv, formats.to_json])
def test_an_exported_file_reads_back_to_the_same_profile(write):
    points = [(0, -1.5), (90, 2.25), (DAY + HOUR + 61, 18.0), (400 * DAY, 109.99)]
    original = ProfileFile('Odd, "quoted" name', "C", "line one\nline two, with a comma", points)
    assert formats.read_profile_file(write(original)) == original


def test_a_csv_from_a_spreadsheet_with_padding_cells_and_a_bom_is_read():
    lines = ["fermentrack-profile,1,,", "name,Ale,,", "unit,°F,,", ",,,", "offset,temperature,,"]
    text = "\ufeff" + "\r\n".join([*lines, "0,64,,", "3.5,68,,"]) + "\r\n"
    assert formats.read_profile_file(text) == ProfileFile(
        "Ale", "F", "", [(0, 64.0), (3 * DAY + 12 * HOUR, 68.0)]
    )


def test_json_points_may_give_the_offset_as_text_instead_of_seconds():
    text = json.dumps(
        {
            "format": "fermentrack-profile",
            "version": 1,
            "name": "Hand written",
            "unit": "C",
            "points": [{"offset": "0", "temperature": 18}, {"offset": "2d 6h", "temperature": 20}],
        }
    )
    assert formats.read_profile_file(text).points == [(0, 18.0), (2 * DAY + 6 * HOUR, 20.0)]


def problems_of(text: str) -> list[str]:
    with pytest.raises(ProfileFileError) as raised:
        formats.read_profile_file(text)
    return raised.value.problems


def test_every_bad_csv_line_is_reported_with_its_line_number():
    text = ALE_CSV.replace("3d,18.00", "3x,18.00").replace("5d,21.00", "5d,hot")
    text = text.replace("7d,21.00", "7d,500")
    assert problems_of(text) == [
        "line 7: offset '3x' is not understood: write it like "
        '"3d 12h" (days and hours), "2d 6h 30m", or plain days such as "3.5"',
        "line 8: temperature 'hot' is not a number: write it like 18.5",
        "line 9: 500 °C is outside -10…110 °C",
    ]


def test_csv_order_and_range_problems_name_their_lines():
    text = ALE_CSV.replace("5d,21.00", "2d,21.00").replace("7d,21.00", "7d,121")
    assert problems_of(text) == [
        "line 8: 2d comes before line 7 (3d); times must increase down the table",
        "line 9: 121 °C is outside -10…110 °C",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the file is empty"),
        ("offset,temperature\n0,18\n", "line 1: expected 'fermentrack-profile,2'"),
        ("fermentrack-profile,3\nname,x\n", "format version 3 comes from a newer Fermentrack"),
        ("fermentrack-profile,one\n", "version 'one' is not a whole number"),
        (ALE_CSV.replace("unit,C", "unit,K"), "unit 'K' is not C or F"),
        (ALE_CSV.replace("unit,C\n", ""), "the file says no unit"),
        (ALE_CSV.replace("name,Ale", "name,"), "the profile has no name"),
        (ALE_CSV.replace("name,Ale", "colour,amber"), "line 2: 'colour' is not a profile field"),
        (ALE_CSV.replace("offset,temperature\n", ""), "there is no line 'offset,temperature'"),
        (ALE_CSV.replace("3d,18.00", "3d,18,5"), "line 7: expected an offset and a temperature"),
        (ALE_CSV.split("offset,temperature")[0] + "offset,temperature\n", "add at least one point"),
    ],
)
def test_a_bad_csv_file_says_what_is_wrong(text, problem):
    assert any(problem in found for found in problems_of(text)), problems_of(text)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"name": "x",', "line 1, column 14: this is not valid JSON"),
        ('{"format": "beer"}', "\"format\" is 'beer'"),
        ('{"format": "fermentrack-profile", "version": 9}', "format version 9"),
        (
            '{"format": "fermentrack-profile", "version": 1, "name": "x", "unit": "C", '
            '"points": [{"offset_s": 0, "temperature": 18}, {"offset_s": -5, "temperature": 1}, '
            '{"offset_s": 60, "temperature": "warm"}, {"temperature": 3}, 7]}',
            "point 2: offset_s -5 is not a whole number of seconds ≥ 0",
        ),
    ],
)
def test_a_bad_json_file_says_what_is_wrong(document, problem):
    assert any(problem in found for found in problems_of(document)), problems_of(document)


def test_every_bad_json_point_is_reported():
    document = {
        "format": "fermentrack-profile",
        "version": 1,
        "name": "x",
        "unit": "F",
        "points": [
            {"offset_s": 0, "temperature": 64},
            {"offset_s": -5, "temperature": 60},
            {"offset_s": 60, "temperature": "warm"},
            {"temperature": 3},
            7,
            {"offset": "1d", "temperature": 240},
        ],
    }
    assert problems_of(json.dumps(document)) == [
        "point 2: offset_s -5 is not a whole number of seconds ≥ 0",
        "point 3: temperature 'warm' is not a number, such as 18.5",
        'point 4: no "offset_s" (seconds) or "offset" (such as "3d 12h")',
        'point 5: expected {"offset_s": 0, "temperature": 18.0}',
        "point 6: 240 °F is outside 14…230 °F",
    ]


# -- the pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "mime"), [("csv", "text/csv"), ("json", "application/json")])
def test_export_offers_a_download_named_after_the_profile(guest_client, ale, kind, mime):
    response = guest_client.get(reverse("profile_export", args=[ale.pk, kind]))
    assert response["Content-Type"].startswith(mime)
    assert response["Content-Disposition"] == f'attachment; filename="ale.profile.{kind}"'


def test_an_unknown_export_format_is_not_found(guest_client, ale):
    assert guest_client.get(reverse("profile_export", args=[ale.pk, "xml"])).status_code == 404


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_importing_an_exported_profile_gives_the_same_points(brewer_client, kind):
    original = make_profile("Ale", [(0, 64.0), (3 * DAY + 7, 64.5), (5 * DAY, 34.25)], unit="F")
    exported = brewer_client.get(reverse("profile_export", args=[original.pk, kind]))
    upload = SimpleUploadedFile(f"ale.profile.{kind}", exported.content)
    response = brewer_client.post(reverse("profile_import"), {"file": upload, "name": "Ale again"})
    imported = FermentationProfile.objects.get(name="Ale again")
    assert response["Location"] == reverse("profile_detail", args=[imported.pk])
    assert imported.point_list() == original.point_list()
    assert imported.temp_format == "F" and imported.notes == original.notes


def test_pasted_text_imports_under_the_name_in_the_file(brewer_client):
    assert import_text(brewer_client, ALE_CSV).status_code == 302
    assert FermentationProfile.objects.get(name="Ale").point_list() == ALE_POINTS


def test_import_shows_every_problem_with_its_line_and_imports_nothing(brewer_client):
    text = ALE_CSV.replace("3d,18.00", "3x,18.00").replace("7d,21.00", "7d,900")
    page = import_text(brewer_client, text).content.decode()
    assert "The profile was not imported" in page
    assert "line 7: offset &#x27;3x&#x27; is not understood" in page
    assert "line 9: 900 °C is outside -10…110 °C" in page
    assert not FermentationProfile.objects.exists()


def test_import_refuses_a_taken_name_and_asks_for_another(brewer_client, ale):
    page = import_text(brewer_client, ALE_CSV).content.decode()
    assert "a profile named &#x27;Ale&#x27; already exists; choose another name" in page
    assert FermentationProfile.objects.count() == 1


def test_import_needs_a_file_or_text(brewer_client):
    page = import_text(brewer_client, "   ").content.decode()
    assert "choose a profile file, or paste its text" in page


def test_import_refuses_a_file_that_is_not_utf8_text(brewer_client):
    upload = SimpleUploadedFile("profile.csv", b"\xff\xfe\x00bad")
    page = brewer_client.post(reverse("profile_import"), {"file": upload}).content.decode()
    assert "the file is not UTF-8 text" in page


def test_the_examples_in_the_readme_import_as_described():
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    section = readme.split("## Fermentation profile files", 1)[1]
    csv_example = section.split("```\n", 2)[1]
    json_example = section.split("```json\n", 1)[1].split("```", 1)[0]
    expected = ProfileFile(
        "Ale 18 to 21",
        "C",
        "Pitch at 18, raise for the diacetyl rest",
        [(0, 18.0), (3 * DAY, 18.0), (5 * DAY, 21.0)],
    )
    assert formats.read_profile_file(csv_example) == expected
    assert formats.read_profile_file(json_example) == expected
    assert formats.to_csv(expected) == csv_example

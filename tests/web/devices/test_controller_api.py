"""The controller API of interfaces.md §1: tokens, batches, duplicates, errors, config, status;
and its additions: holds in the config, their progress in the status, the gravity readings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from django.test import Client

from fermentrack.gravity.holds import Hold
from fermentrack.web.beers.models import Annotation, LogPoint, PointRollup
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravityReading, GravitySensor, store_readings
from fermentrack.web.profiles.models import FermentationProfile, ProfilePoint
from fermentrack.web.profiles.ramps import start_ramp

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC
UNIX_TIME = "expected an integer Unix time in seconds (years 2000 to 2099)"
TEMPERATURE = "expected a temperature from -60 to 150, or null"


@pytest.fixture
def device_and_token():
    device = Device(name="fridge-1", link="tcp://192.168.1.20:23")
    token = device.issue_token()
    device.save()
    return device, token


@pytest.fixture
def device(device_and_token):
    return device_and_token[0]


@pytest.fixture
def controller(device_and_token):
    """A client that speaks as the device's controller."""
    return ControllerClient(device_and_token[1])


class ControllerClient:
    def __init__(self, token: str) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path: str, **extra):
        return self.client.get(f"/api/controller/{path}", **{**self.headers, **extra})

    def post(self, path: str, body, **extra):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.client.post(
            f"/api/controller/{path}",
            data=data,
            content_type="application/json",
            **{**self.headers, **extra},
        )


def point(ts: int, **values) -> dict:
    return {
        "ts": ts,
        "beer_temp": 19.5,
        "beer_set": 19.0,
        "fridge_temp": 17.25,
        "fridge_set": 16.0,
        "room_temp": None,
        "state": 4,
        "temp_format": "C",
        **values,
    }


def batch(*timestamps: int) -> dict:
    return {"points": [point(ts) for ts in timestamps]}


# -- points ------------------------------------------------------------------------------------


def test_a_good_batch_is_stored_and_counted(controller, device):
    response = controller.post("points", batch(T0, T0 + 30, T0 + 60))

    assert response.status_code == 200
    assert response.json() == {"stored": 3, "duplicates": 0}
    stored = LogPoint.objects.get(device=device, ts=T0 + 30)
    assert (stored.beer_temp, stored.fridge_temp, stored.room_temp) == (19.5, 17.25, None)
    assert (stored.state, stored.temp_format) == (4, "C")


def test_points_are_stored_whether_or_not_a_beer_is_active(controller, device):
    assert not device.beers.exists()
    assert controller.post("points", batch(T0)).json()["stored"] == 1


def test_resending_a_batch_stores_nothing_and_counts_duplicates(controller, device):
    controller.post("points", batch(T0, T0 + 30, T0 + 60))

    response = controller.post("points", batch(T0, T0 + 30, T0 + 60))

    assert response.status_code == 200
    assert response.json() == {"stored": 0, "duplicates": 3}
    assert LogPoint.objects.filter(device=device).count() == 3


def test_a_half_duplicate_batch_stores_only_the_new_half(controller, device):
    controller.post("points", batch(T0, T0 + 30))

    response = controller.post("points", batch(T0, T0 + 30, T0 + 60, T0 + 90))

    assert response.json() == {"stored": 2, "duplicates": 2}
    assert LogPoint.objects.filter(device=device).count() == 4


def test_a_time_repeated_within_one_batch_is_a_duplicate_and_the_first_wins(controller, device):
    body = {"points": [point(T0, beer_temp=18.0), point(T0, beer_temp=25.0)]}

    assert controller.post("points", body).json() == {"stored": 1, "duplicates": 1}
    assert LogPoint.objects.get(device=device, ts=T0).beer_temp == 18.0


def test_a_missing_sensor_may_be_null_or_left_out(controller, device):
    body = {"points": [{"ts": T0, "temp_format": "F", "beer_temp": None}]}

    assert controller.post("points", body).json() == {"stored": 1, "duplicates": 0}
    stored = LogPoint.objects.get(device=device, ts=T0)
    assert stored.beer_temp is None and stored.state is None and stored.temp_format == "F"


def test_storing_points_refreshes_their_rollups(controller, device):
    controller.post("points", batch(T0, T0 + 30))

    assert PointRollup.objects.filter(device=device, resolution_s=300).count() >= 1
    assert PointRollup.objects.filter(device=device, resolution_s=3600).count() == 1


def test_a_malformed_point_gets_400_naming_the_field_and_nothing_of_the_batch_is_stored(
    controller, device
):
    body = batch(T0, T0 + 30, T0 + 60, T0 + 90)
    body["points"][3]["ts"] = "abc"

    response = controller.post("points", body)

    assert response.status_code == 400
    assert f'points[3].ts: {UNIX_TIME}, got "abc"' in response.json()["detail"]
    assert not LogPoint.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("beer_temp", 151, f"points[0].beer_temp: {TEMPERATURE}, got 151"),
        ("room_temp", "20", f'points[0].room_temp: {TEMPERATURE}, got "20"'),
        ("room_temp", True, f"points[0].room_temp: {TEMPERATURE}, got true"),
        ("ts", 12, f"points[0].ts: {UNIX_TIME}, got 12"),
        ("ts", T0 + 0.5, f"points[0].ts: {UNIX_TIME}, got {T0 + 0.5}"),
        ("ts", str(T0), f'points[0].ts: {UNIX_TIME}, got "{T0}"'),
        ("state", 10, "points[0].state: expected a control state from 0 to 9, or null, got 10"),
        ("temp_format", "K", 'points[0].temp_format: expected "C" or "F", got "K"'),
    ],
)
def test_values_out_of_range_are_refused_with_what_was_expected(controller, field, value, message):
    response = controller.post("points", {"points": [{**point(T0), field: value}]})

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not LogPoint.objects.exists()


def test_a_point_without_its_time_is_refused(controller):
    body = {"points": [{"temp_format": "C"}]}

    response = controller.post("points", body)

    assert response.status_code == 400
    assert "points[0].ts: required, but missing" in response.json()["detail"]


def test_a_body_that_is_not_json_is_refused_saying_so(controller):
    response = controller.post("points", "{points: [")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("the body is not JSON")


def test_a_body_of_the_wrong_shape_is_refused_saying_what_was_expected(controller):
    assert controller.post("points", []).json()["detail"].endswith("expected a JSON object")
    assert controller.post("points", {"points": 5}).json()["detail"] == "points: expected a list"
    assert controller.post("points", "").json()["detail"].startswith("the body is empty")


def test_a_thousand_points_are_taken_and_a_thousand_and_one_refused(controller, device):
    too_many = batch(*range(T0, T0 + 1001 * 30, 30))

    response = controller.post("points", too_many)

    assert response.status_code == 400
    assert "points: expected at most 1000 items, got 1001" in response.json()["detail"]
    assert not LogPoint.objects.exists()
    too_many["points"].pop()
    assert controller.post("points", too_many).json() == {"stored": 1000, "duplicates": 0}


def test_a_wrong_token_gets_401_and_stores_nothing(device):
    response = ControllerClient("not-the-token").post("points", batch(T0))

    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert not LogPoint.objects.exists()


def test_a_missing_token_gets_401_on_every_call(device):
    client = Client()
    for path in ("points", "annotations", "status"):
        response = client.post(f"/api/controller/{path}", "{}", content_type="application/json")
        assert response.status_code == 401
    assert client.get("/api/controller/config").status_code == 401
    assert not LogPoint.objects.exists()


def test_another_devices_token_writes_only_to_that_device(controller, device):
    other = Device(name="fridge-2", simulated=True)
    other_token = other.issue_token()
    other.save()

    ControllerClient(other_token).post("points", batch(T0))

    assert LogPoint.objects.get().device == other


def test_a_body_over_one_megabyte_gets_413_and_stores_nothing(controller):
    body = json.dumps(batch(T0))
    oversize = body[:-1] + ', "padding": "' + "x" * (1024 * 1024) + '"}'

    response = controller.post("points", oversize)

    assert response.status_code == 413
    assert "at most 1048576 bytes" in response.json()["detail"]
    assert not LogPoint.objects.exists()


def test_a_declared_length_over_one_megabyte_gets_413_before_the_body_is_read(controller):
    response = controller.post("points", batch(T0), CONTENT_LENGTH=str(2 * 1024 * 1024))

    assert response.status_code == 413
    assert not LogPoint.objects.exists()


# -- annotations -------------------------------------------------------------------------------


def test_annotations_are_stored_and_resending_them_is_safe(controller, device):
    body = {
        "annotations": [
            {"ts": T0, "text": "Beer temperature sensor disconnected", "source": "firmware"},
            {"ts": T0 + 60, "text": "Profile step 2 reached", "source": "controller"},
        ]
    }

    assert controller.post("annotations", body).json() == {"stored": 2}
    assert controller.post("annotations", body).json() == {"stored": 0}
    assert list(Annotation.objects.filter(device=device).values_list("ts", "source")) == [
        (T0, "firmware"),
        (T0 + 60, "controller"),
    ]


def test_an_annotation_from_an_unknown_source_is_refused(controller):
    body = {"annotations": [{"ts": T0, "text": "hello", "source": "person"}]}

    response = controller.post("annotations", body)

    assert response.status_code == 400
    assert "annotations[0].source: expected 'firmware' or 'controller'" in response.json()["detail"]
    assert not Annotation.objects.exists()


# -- status ------------------------------------------------------------------------------------


STATUS = {
    "ts": T0,
    "connected": True,
    "firmware": {"version": "0.2.4", "board": "sim", "dialect": "esp"},
    "mode": "beer_constant",
    "beer_set": 19.0,
    "fridge_set": 15.5,
    "lcd": [
        "Mode   Beer Const.",
        "Beer   19.2  19.0 °C",
        "Fridge 15.6  15.5 °C",
        "Cooling for 12m",
    ],
    "state": 4,
    "last_error": None,
}


def test_a_status_is_kept_and_answered_with_the_config_version_without_bumping_it(
    controller, device
):
    response = controller.post("status", STATUS)

    assert response.status_code == 200
    assert response.json() == {"config_version": 1}
    device.refresh_from_db()
    assert device.status == STATUS
    assert device.last_seen_at is not None
    assert device.config_version == 1


def test_a_status_answers_the_new_config_version_after_a_change(controller, device):
    device.bump_config_version()

    assert controller.post("status", STATUS).json() == {"config_version": 2}


def test_a_status_with_a_bad_field_is_refused_and_not_kept(controller, device):
    response = controller.post("status", {**STATUS, "lcd": ["a", "b", "c", "d", "e"]})

    assert response.status_code == 400
    assert "lcd: expected at most 4 items, got 5" in response.json()["detail"]
    device.refresh_from_db()
    assert device.status == {} and device.last_seen_at is None


def running_profile(device, started_at: int) -> FermentationProfile:
    profile = FermentationProfile.objects.create(name="Ale", temp_format="C")
    ProfilePoint.objects.create(profile=profile, offset_s=0, temperature=18.0)
    device.active_profile = profile
    device.profile_started_at = datetime.fromtimestamp(started_at + 0.4, UTC)
    device.save()
    return profile


def test_a_status_saying_the_profile_finished_ends_it_and_tells_the_controller(controller, device):
    profile = running_profile(device, T0)

    answer = controller.post(
        "status", {**STATUS, "profile_finished": {"id": profile.pk, "started_at": T0}}
    )

    assert answer.json() == {"config_version": 2}
    device.refresh_from_db()
    assert device.active_profile is None and device.profile_started_at is None
    assert controller.get("config").json()["profile"] is None


def test_a_finished_ramps_profile_is_removed_and_an_ordinary_profile_stays(controller, device):
    ramp = start_ramp(device, 18.6, 2.0, 1.0)
    kept = FermentationProfile.objects.create(name="Lager", temp_format="C")
    started = int(device.profile_started_at.timestamp())

    controller.post(
        "status", {**STATUS, "profile_finished": {"id": ramp.pk, "started_at": started}}
    )

    assert list(FermentationProfile.objects.all()) == [kept]


def test_a_finished_run_does_not_end_the_same_profile_started_again_since(controller, device):
    profile = running_profile(device, T0 + 600)

    answer = controller.post(
        "status", {**STATUS, "profile_finished": {"id": profile.pk, "started_at": T0}}
    )

    assert answer.json() == {"config_version": 1}
    device.refresh_from_db()
    assert device.active_profile == profile


def test_a_status_naming_a_finished_profile_badly_is_refused(controller, device):
    response = controller.post("status", {**STATUS, "profile_finished": {"id": "x"}})

    assert response.status_code == 400
    assert "profile_finished.id" in response.json()["detail"]


# -- config ------------------------------------------------------------------------------------


def test_the_config_without_an_active_profile(controller, device):
    response = controller.get("config")

    assert response.status_code == 200
    assert response.json() == {
        "device": "fridge-1",
        "link": "tcp://192.168.1.20:23",
        "log_interval_s": 30,
        "temp_format": "C",
        "profile": None,
        "config_version": 1,
    }


def test_the_config_with_an_active_profile_gives_its_points_in_the_devices_unit(controller, device):
    profile = FermentationProfile.objects.create(name="Lager", temp_format="C")
    ProfilePoint.objects.create(profile=profile, offset_s=0, temperature=10.0)
    ProfilePoint.objects.create(profile=profile, offset_s=7 * 86400, temperature=18.5)
    device.temp_format = "F"
    device.active_profile = profile
    device.profile_started_at = datetime.fromtimestamp(T0, UTC)
    device.save()

    answer = controller.get("config").json()

    assert answer["temp_format"] == "F"
    no_hold = dict.fromkeys(
        ("hold_until", "hold_gravity", "hold_tolerance", "hold_for_s", "hold_max_s")
    )
    assert answer["profile"] == {
        "id": profile.pk,
        "started_at": T0,
        "points": [
            {"offset_s": 0, "temperature": 50.0, **no_hold},
            {"offset_s": 7 * 86400, "temperature": 65.3, **no_hold},
        ],
        "progress": {"holds": [], "holding": None},
    }


DAY = 86400
UNTIL_1012 = Hold("gravity_at_most", max_s=3 * DAY, gravity=1.012)
STEADY = Hold("gravity_stable", max_s=5 * DAY, tolerance=2.0, for_s=DAY)


def started_with_holds(device) -> FermentationProfile:
    """Ale: 18 °C, held until 1.012 at 3 days; 21 °C at 5 days, held until steady."""
    profile = FermentationProfile.objects.create(name="Held ale", temp_format="C")
    profile.replace_points(
        [(0, 18.0), (3 * DAY, 18.0), (5 * DAY, 21.0)], {3 * DAY: UNTIL_1012, 5 * DAY: STEADY}
    )
    profile.start_on(device, now=datetime.fromtimestamp(T0, UTC))
    return profile


def test_the_config_gives_each_points_hold_and_a_new_runs_empty_progress(controller, device):
    started_with_holds(device)

    profile = controller.get("config").json()["profile"]

    assert [point["hold_until"] for point in profile["points"]] == [
        None,
        "gravity_at_most",
        "gravity_stable",
    ]
    assert profile["points"][1] | {"temperature": None} == {
        "offset_s": 3 * DAY,
        "temperature": None,
        "hold_until": "gravity_at_most",
        "hold_gravity": 1.012,
        "hold_tolerance": None,
        "hold_for_s": None,
        "hold_max_s": 3 * DAY,
    }
    assert profile["points"][2]["hold_tolerance"] == 2.0
    assert profile["points"][2]["hold_for_s"] == DAY
    assert profile["progress"] == {"holds": [], "holding": None}


def progress(profile_id: int, started_at: int = T0, **changes) -> dict:
    return {
        "id": profile_id,
        "started_at": started_at,
        "holds": [{"index": 1, "held_s": 36000}],
        "holding": {"index": 2, "since": T0 + 6 * DAY},
    } | changes


def test_the_progress_a_status_reports_comes_back_in_the_config(controller, device):
    profile = started_with_holds(device)

    answer = controller.post("status", {**STATUS, "profile_progress": progress(profile.pk)})

    assert answer.status_code == 200, answer.content
    assert controller.get("config").json()["profile"]["progress"] == {
        "holds": [{"index": 1, "held_s": 36000}],
        "holding": {"index": 2, "since": T0 + 6 * DAY},
    }
    device.refresh_from_db()
    assert "profile_progress" not in device.status


def test_progress_of_another_run_is_not_kept(controller, device):
    profile = started_with_holds(device)

    controller.post("status", {**STATUS, "profile_progress": progress(profile.pk, T0 - 600)})
    controller.post("status", {**STATUS, "profile_progress": progress(profile.pk + 1)})

    assert controller.get("config").json()["profile"]["progress"] == {
        "holds": [],
        "holding": None,
    }


def test_starting_a_profile_again_clears_its_progress_and_skips_holds_before_the_start(
    controller, device
):
    profile = started_with_holds(device)
    controller.post("status", {**STATUS, "profile_progress": progress(profile.pk)})

    profile.start_on(device, offset_s=4 * DAY, now=datetime.fromtimestamp(T0 + 3600, UTC))

    config = controller.get("config").json()["profile"]
    assert config["started_at"] == T0 + 3600 - 4 * DAY
    assert config["progress"] == {"holds": [{"index": 1, "held_s": 0}], "holding": None}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"holds": [{"index": -1, "held_s": 0}]}, "profile_progress.holds[0].index"),
        ({"holds": [{"index": 1, "held_s": "10"}]}, "profile_progress.holds[0].held_s"),
        ({"holding": {"index": 1, "since": "soon"}}, "profile_progress.holding.since"),
        ({"started_at": None}, "profile_progress.started_at"),
    ],
)
def test_a_status_with_malformed_progress_is_refused_naming_the_field(
    controller, device, changes, named
):
    profile = started_with_holds(device)

    response = controller.post(
        "status", {**STATUS, "profile_progress": progress(profile.pk, **changes)}
    )

    assert response.status_code == 400
    assert named in response.json()["detail"]


# -- gravity -----------------------------------------------------------------------------------


def tilt_on(device, name: str = "Purple Tilt") -> GravitySensor:
    sensor = GravitySensor(name=name, kind="tiltbridge", colour="Purple", bridge_mdns_id="b")
    sensor.device = device
    sensor.save()
    return sensor


def readings(sensor: GravitySensor, *pairs: tuple[int, float]) -> None:
    store_readings(sensor, [sensor.new_reading(ts, gravity=gravity) for ts, gravity in pairs])


def test_the_gravity_readings_of_the_devices_hydrometers_come_oldest_first(controller, device):
    readings(tilt_on(device), (T0 + 60, 1.0201), (T0, 1.0203), (T0 + 120, 1.0199))

    response = controller.get(f"gravity?since={T0}")

    assert response.status_code == 200
    assert response.json() == {
        "readings": [
            {"ts": T0, "gravity": 1.0203},
            {"ts": T0 + 60, "gravity": 1.0201},
            {"ts": T0 + 120, "gravity": 1.0199},
        ]
    }


def test_gravity_readings_start_at_since_and_leave_out_hidden_and_outliers_and_other_devices(
    controller, device
):
    sensor = tilt_on(device)
    readings(sensor, *[(T0 + 60 * n, round(1.030 - 0.0001 * n, 4)) for n in range(10)])
    GravityReading.objects.filter(ts=T0 + 5 * 60).update(hidden=True)
    GravityReading.objects.filter(ts=T0 + 6 * 60).update(outlier=True)
    GravityReading.objects.filter(ts=T0 + 7 * 60).update(corrected_gravity=1.0250)
    other = Device(name="fridge-2", link="tcp://192.168.1.21:23")
    other.issue_token()
    other.save()
    readings(tilt_on(other, "Red Tilt"), (T0 + 8 * 60 + 1, 1.100))

    answer = controller.get(f"gravity?since={T0 + 4 * 60}").json()

    assert answer["readings"] == [
        {"ts": T0 + 4 * 60, "gravity": 1.0296},
        {"ts": T0 + 7 * 60, "gravity": 1.0250},
        {"ts": T0 + 8 * 60, "gravity": 1.0292},
        {"ts": T0 + 9 * 60, "gravity": 1.0291},
    ]


def test_more_than_two_thousand_gravity_readings_are_thinned_evenly_keeping_the_newest(
    controller, device
):
    sensor = tilt_on(device)
    readings(sensor, *[(T0 + n, 1.030) for n in range(5000)])

    answer = controller.get(f"gravity?since={T0}").json()["readings"]

    assert len(answer) == 2000
    assert answer[0]["ts"] == T0 and answer[-1]["ts"] == T0 + 4999
    gaps = {later["ts"] - earlier["ts"] for earlier, later in pairwise(answer)}
    assert gaps <= {2, 3}


def test_the_gravity_call_needs_the_token_and_a_unix_since(controller, device):
    assert Client().get(f"/api/controller/gravity?since={T0}").status_code == 401
    for query, message in (
        ("", "since: required"),
        ("?since=soon", "since: expected"),
        (f"?since={T0}&=null", "unknown query parameter '': expected only since"),
        (f"?since={T0}&sensor=2", "unknown query parameter 'sensor'"),
    ):
        response = controller.get(f"gravity{query}")
        assert response.status_code == 400
        assert message in response.json()["detail"], response.json()


def test_a_profile_chosen_but_not_started_is_no_profile(controller, device):
    device.active_profile = FermentationProfile.objects.create(name="Ale")
    device.save()

    assert controller.get("config").json()["profile"] is None


def test_a_nul_character_in_text_is_refused_with_400_naming_the_field(controller):
    """PostgreSQL cannot store NUL; every database must answer the same way: a clear 400."""
    nul_annotation = {"ts": 1_700_000_000, "text": "a\u0000b", "source": "firmware"}
    for path, body, field in (
        ("annotations", {"annotations": [nul_annotation]}, "annotations[0].text"),
        ("status", {"ts": 1_700_000_000, "connected": True, "last_error": "x\u0000"}, "last_error"),
        ("status", {"ts": 1_700_000_000, "connected": True, "lcd": ["ok", "\u0000"]}, "lcd[1]"),
    ):
        response = controller.post(path, body)
        assert response.status_code == 400, (path, response.content)
        assert field in response.json()["detail"], response.json()
    assert not Annotation.objects.exists()

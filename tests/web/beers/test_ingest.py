"""Storing batches of points and keeping the 5-minute and 1-hour rollups right."""

from __future__ import annotations

import pytest

from fermentrack.web.beers import ingest
from fermentrack.web.beers.ingest import store_annotations, store_points
from fermentrack.web.beers.models import Annotation, ControlState, LogPoint, PointRollup
from fermentrack.web.devices.models import Device

pytestmark = pytest.mark.django_db
HOUR0 = 1_700_002_800  # a whole hour (and so a whole 5 minutes) in Unix seconds


@pytest.fixture
def device():
    return Device.objects.create(name="fridge-1", simulated=True)


def reading(ts: int, beer: float | None = 20.0, state: int = ControlState.IDLE, **values):
    return LogPoint(ts=ts, beer_temp=beer, state=state, temp_format="C", **values)


def rollup(device, resolution: int, bucket_ts: int) -> PointRollup:
    return PointRollup.objects.get(device=device, resolution_s=resolution, bucket_ts=bucket_ts)


def test_a_batch_is_stored_and_counted(device):
    result = store_points(device, [reading(HOUR0), reading(HOUR0 + 30)])

    assert (result.stored, result.duplicates) == (2, 0)
    assert LogPoint.objects.filter(device=device).count() == 2


def test_a_bucket_holds_the_min_max_sum_and_counts_of_its_points(device):
    store_points(
        device,
        [
            reading(HOUR0, beer=19.0, state=ControlState.HEATING, fridge_temp=10.0, beer_set=20.0),
            reading(HOUR0 + 30, beer=21.5, state=ControlState.HEATING_MIN_TIME, beer_set=20.0),
            reading(HOUR0 + 60, beer=None, state=ControlState.COOLING, fridge_temp=12.0),
            reading(HOUR0 + 90, beer=20.0, state=ControlState.IDLE, room_temp=22.0),
        ],
    )

    five = rollup(device, 300, HOUR0)
    assert five.points == 4
    assert (five.beer_temp_min, five.beer_temp_max) == (19.0, 21.5)
    assert (five.beer_temp_sum, five.beer_temp_n) == (60.5, 3)
    assert (five.fridge_temp_min, five.fridge_temp_max, five.fridge_temp_n) == (10.0, 12.0, 2)
    assert (five.room_temp_sum, five.room_temp_n) == (22.0, 1)
    assert (five.beer_set_sum, five.beer_set_n, five.fridge_set_n) == (40.0, 2, 0)
    assert (five.heating, five.cooling) == (2, 1)
    hour = rollup(device, 3600, HOUR0)
    assert (hour.points, hour.beer_temp_sum, hour.heating) == (4, 60.5, 2)


def test_points_fall_in_the_bucket_of_their_resolution(device):
    store_points(device, [reading(HOUR0 + 299), reading(HOUR0 + 300), reading(HOUR0 + 3600)])

    assert rollup(device, 300, HOUR0).points == 1
    assert rollup(device, 300, HOUR0 + 300).points == 1
    assert rollup(device, 3600, HOUR0).points == 2
    assert rollup(device, 3600, HOUR0 + 3600).points == 1


def test_a_late_point_is_folded_into_its_old_bucket(device):
    store_points(device, [reading(HOUR0 + 30, beer=20.0), reading(HOUR0 + 4000, beer=18.0)])

    store_points(device, [reading(HOUR0, beer=24.0)])

    five = rollup(device, 300, HOUR0)
    assert (five.points, five.beer_temp_max, five.beer_temp_sum) == (2, 24.0, 44.0)
    assert rollup(device, 3600, HOUR0).points == 2
    assert rollup(device, 3600, HOUR0 + 3600).points == 1


def test_resent_points_count_as_duplicates_and_leave_the_rollups_as_they_were(device):
    points = [reading(HOUR0 + 30 * i, beer=19.0 + i) for i in range(10)]
    store_points(device, points)

    result = store_points(device, [reading(HOUR0 + 30 * i, beer=99.0) for i in range(5, 15)])

    assert (result.stored, result.duplicates) == (5, 5)
    five = rollup(device, 300, HOUR0)
    assert (five.points, five.beer_temp_max, five.beer_temp_sum) == (10, 28.0, 235.0)
    assert rollup(device, 300, HOUR0 + 300).points == 5


def test_buckets_far_apart_are_recomputed_without_touching_those_between(device):
    store_points(device, [reading(HOUR0), reading(HOUR0 + 10 * 86400)])

    assert PointRollup.objects.filter(device=device, resolution_s=300).count() == 2
    assert PointRollup.objects.filter(device=device, resolution_s=3600).count() == 2


def test_a_batch_is_all_or_nothing(device, monkeypatch):
    def broken(device_id, timestamps):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "refresh_rollups", broken)

    with pytest.raises(RuntimeError):
        store_points(device, [reading(HOUR0), reading(HOUR0 + 30)])

    assert not LogPoint.objects.exists()


def test_annotations_identical_to_stored_ones_are_skipped(device):
    first = store_annotations(device, [Annotation(ts=HOUR0, text="door open", source="firmware")])
    again = store_annotations(
        device,
        [
            Annotation(ts=HOUR0, text="door open", source="firmware"),
            Annotation(ts=HOUR0, text="door closed", source="firmware"),
            Annotation(ts=HOUR0, text="door closed", source="firmware"),
        ],
    )

    assert (first, again) == (1, 1)
    assert sorted(Annotation.objects.values_list("text", flat=True)) == ["door closed", "door open"]

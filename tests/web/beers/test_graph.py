"""Graph data: downsampling in SQL, gaps, rollups against raw points, and who may read it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fermentrack.web.beers.graph import MAX_WIDTH, MIN_WIDTH, SERIES, Buckets, graph_data
from fermentrack.web.beers.ingest import store_points
from fermentrack.web.beers.models import Annotation, Beer, ControlState, LogPoint
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices.models import Device

HOUR0 = 1_700_002_800  # a whole hour in Unix seconds
DAY = 86400


@pytest.fixture
def device(db):
    return Device.objects.create(name="fridge-1", simulated=True, log_interval_s=30)


def reading(ts: int, beer: float | None, state: int = ControlState.IDLE, **values) -> LogPoint:
    return LogPoint(ts=ts, beer_temp=beer, state=state, temp_format="C", **values)


def wavy_log(device: Device, start: int, seconds: int, step: int = 30) -> None:
    """A log of every series with values that wander, stored through the ingest path."""
    points = []
    for ts in range(start, start + seconds, step):
        phase = (ts - start) / 3000
        points.append(
            LogPoint(
                ts=ts,
                beer_temp=round(19 + math.sin(phase), 3),
                beer_set=19.0 if ts < start + seconds // 2 else 12.5,
                fridge_temp=round(15 + 3 * math.cos(phase * 3), 3),
                fridge_set=14.0,
                room_temp=round(21 + math.sin(phase / 7), 3),
                state=[ControlState.IDLE, ControlState.HEATING, ControlState.COOLING][
                    ts // 600 % 3
                ],
                temp_format="C",
            )
        )
    for i in range(0, len(points), 1000):
        store_points(device, points[i : i + 1000])


# -- cutting a range into buckets ----------------------------------------------------------------


@given(
    start=st.integers(0, 4_000_000_000),
    length=st.integers(1, 10 * 365 * DAY),
    width=st.integers(MIN_WIDTH, MAX_WIDTH),
)
def test_a_range_is_never_cut_into_more_buckets_than_its_width(start, length, width):
    buckets = Buckets.for_range(start, start + length, width)

    assert buckets.count <= width
    assert buckets.bucket_s == max(1, math.ceil(length / width))


@pytest.mark.parametrize(
    ("length", "width", "source_s"),
    [(DAY, 1200, 0), (299 * 1000, 1000, 0), (300 * 1000, 1000, 300), (30 * DAY, 1200, 300),
     (3600 * 1000, 1000, 3600), (365 * DAY, 1200, 3600)],
)  # fmt: skip
def test_the_source_is_raw_points_then_five_minute_then_hourly_rollups(length, width, source_s):
    assert Buckets.for_range(HOUR0, HOUR0 + length, width).source_s == source_s


@pytest.mark.parametrize(("width", "end"), [(9, HOUR0 + 100), (4001, HOUR0 + 100), (100, HOUR0)])
def test_a_width_out_of_bounds_or_an_empty_range_is_refused(width, end):
    with pytest.raises(ValueError):
        Buckets.for_range(HOUR0, end, width)


# -- downsampling --------------------------------------------------------------------------------


def test_a_buckets_min_max_and_mean_are_those_of_its_points(device):
    store_points(
        device,
        [
            reading(HOUR0, 19.0, fridge_temp=10.0, beer_set=20.0),
            reading(HOUR0 + 30, 20.0, fridge_temp=11.0, beer_set=20.0),
            reading(HOUR0 + 60, 21.5, fridge_temp=None, beer_set=21.0),
            reading(HOUR0 + 120, 18.0, state=ControlState.HEATING),
            reading(HOUR0 + 150, None, state=ControlState.COOLING_MIN_TIME),
            reading(HOUR0 + 180, 18.5, state=ControlState.HEATING_MIN_TIME),
            reading(HOUR0 + 210, 18.5, state=ControlState.IDLE),
        ],
    )

    answer = graph_data(device, HOUR0, HOUR0 + 1000, 10)

    assert answer["bucket_s"] == 100
    assert answer["t"] == [HOUR0, HOUR0 + 100, HOUR0 + 200]
    assert answer["beer_temp"] == [20.17, 18.25, 18.5]
    assert answer["beer_temp_min"] == [19.0, 18.0, 18.5]
    assert answer["beer_temp_max"] == [21.5, 18.5, 18.5]
    assert answer["fridge_temp"] == [10.5, None, None]
    assert answer["beer_set"] == [20.33, None, None]
    assert answer["heating"] == [0.0, 0.67, 0.0]
    assert answer["cooling"] == [0.0, 0.33, 0.0]
    assert answer["room_temp"] == [None, None, None]


def test_heating_and_cooling_are_the_share_of_a_buckets_points(device):
    states = [ControlState.HEATING, ControlState.HEATING_MIN_TIME, ControlState.COOLING]
    store_points(device, [reading(HOUR0 + 30 * i, 20.0, state=s) for i, s in enumerate(states)])

    answer = graph_data(device, HOUR0, HOUR0 + 1200, 10)

    assert (answer["heating"], answer["cooling"]) == ([0.67], [0.33])


@pytest.mark.parametrize("width", [10, 37, 500, 1200, 4000])
def test_never_more_rows_than_the_width_asked_for(device, width):
    wavy_log(device, HOUR0, 2 * DAY)

    answer = graph_data(device, HOUR0 - 3600, HOUR0 + 2 * DAY + 3600, width)

    assert 0 < len(answer["t"]) <= width
    assert all(len(answer[name]) == len(answer["t"]) for name in SERIES)


def test_a_gap_in_the_log_stays_a_gap_and_continuous_data_has_none(device):
    wavy_log(device, HOUR0, 3600)
    wavy_log(device, HOUR0 + 4 * 3600, 3600)

    answer = graph_data(device, HOUR0, HOUR0 + 5 * 3600, 200)  # 90 s buckets, raw points

    nulls = [i for i, value in enumerate(answer["beer_temp"]) if value is None]
    assert len(nulls) == 1
    t = answer["t"]
    assert t[nulls[0] - 1] < HOUR0 + 3600 < HOUR0 + 4 * 3600 <= t[nulls[0] + 1]
    assert all(answer[name][nulls[0]] is None for name in SERIES)
    assert t == sorted(t)


def test_a_log_sparser_than_the_buckets_is_not_mistaken_for_gaps(device):
    wavy_log(device, HOUR0, 3600)  # every 30 s, into 10 s buckets

    answer = graph_data(device, HOUR0, HOUR0 + 3600, 360)

    assert None not in answer["beer_temp"]
    assert len(answer["t"]) == 120


@pytest.mark.parametrize(("source_s", "width"), [(300, 576), (3600, 48)])
def test_the_rollups_and_the_raw_points_give_the_same_graph(device, source_s, width):
    wavy_log(device, HOUR0, 2 * DAY)

    raw = graph_data(device, HOUR0, HOUR0 + 2 * DAY, width, source_s=0)
    rolled = graph_data(device, HOUR0, HOUR0 + 2 * DAY, width, source_s=source_s)

    assert raw["t"] == rolled["t"]
    for name in SERIES:
        assert rolled[name] == pytest.approx(raw[name], abs=0.011), name


def test_late_and_duplicate_points_keep_the_rollups_equal_to_the_raw_points(device):
    wavy_log(device, HOUR0 + 3 * 3600, 7 * 3600)
    store_points(device, [reading(HOUR0 + 30 * i, 30.0 - i / 10) for i in range(400)])
    store_points(device, [reading(HOUR0 + 30 * i, 5.0) for i in range(200, 500)])  # half resent

    raw = graph_data(device, HOUR0, HOUR0 + 10 * 3600, 10, source_s=0)
    rolled = graph_data(device, HOUR0, HOUR0 + 10 * 3600, 10, source_s=3600)

    assert rolled["beer_temp_min"][:2] == raw["beer_temp_min"][:2] == [18.1, 6.1]
    assert 5.0 not in rolled["beer_temp_min"]  # the resent points were duplicates
    for name in SERIES:
        assert rolled[name] == pytest.approx(raw[name], abs=0.011), name


def test_the_range_reads_only_its_own_device(device):
    other = Device.objects.create(name="fridge-2", simulated=True)
    store_points(other, [reading(HOUR0, 5.0)])
    store_points(device, [reading(HOUR0, 25.0)])

    assert graph_data(device, HOUR0, HOUR0 + 600, 10)["beer_temp"] == [25.0]


def test_annotations_in_the_range_come_along_and_past_500_are_thinned_evenly(device):
    Annotation.objects.bulk_create(
        Annotation(device=device, ts=HOUR0 + i, text=f"note {i}", source="controller")
        for i in range(-5, 1000)
    )

    answer = graph_data(device, HOUR0, HOUR0 + 1000, 100)

    assert answer["annotations_total"] == 1000
    assert len(answer["annotations"]) == 500
    assert answer["annotations"][:2] == [
        {"ts": HOUR0, "text": "note 0", "source": "controller"},
        {"ts": HOUR0 + 2, "text": "note 2", "source": "controller"},
    ]


# -- over HTTP -----------------------------------------------------------------------------------


def device_url(start=HOUR0, end=HOUR0 + 3600, width=100, name="fridge-1") -> str:
    return f"/api/devices/{name}/graph?start={start}&end={end}&width={width}"


@pytest.fixture
def beer(device):
    wavy_log(device, HOUR0, 6 * 3600)
    return Beer.objects.create(
        device=device, name="Pale Ale", started_at=HOUR0 + 3600, ended_at=HOUR0 + 3 * 3600
    )


def test_the_device_graph_answers_the_contract_in_compact_json(brewer_client, device):
    wavy_log(device, HOUR0, 3600)

    response = brewer_client.get(device_url())

    assert response.status_code == 200
    answer = response.json()
    assert list(answer) == [
        "device", "start", "end", "bucket_s", "temp_format", "t", *SERIES, "annotations",
        "annotations_total", "gravity",
    ]  # fmt: skip
    assert (answer["device"], answer["start"], answer["bucket_s"]) == ("fridge-1", HOUR0, 36)
    assert b", " not in response.content and b": " not in response.content


def test_a_width_outside_10_to_4000_is_refused_naming_it(brewer_client, device):
    response = brewer_client.get(device_url(width=4001))

    assert response.status_code == 400
    assert response.json()["detail"] == "width: expected at most 4000"


def test_an_end_before_the_start_is_refused(brewer_client, device):
    response = brewer_client.get(device_url(start=HOUR0, end=HOUR0 - 1))

    assert response.status_code == 400
    assert "must be after start" in response.json()["detail"]


def test_an_unknown_device_or_beer_is_404(brewer_client, device):
    assert brewer_client.get(device_url(name="no-such-fridge")).status_code == 404
    assert brewer_client.get("/api/beers/999/graph").status_code == 404


def test_the_beer_graph_defaults_to_the_beers_window_and_stays_inside_it(brewer_client, beer):
    answer = brewer_client.get(f"/api/beers/{beer.pk}/graph?width=100").json()

    assert (answer["start"], answer["end"]) == (HOUR0 + 3600, HOUR0 + 3 * 3600)
    assert min(answer["t"]) >= HOUR0 + 3600 and max(answer["t"]) < HOUR0 + 3 * 3600

    wider = f"/api/beers/{beer.pk}/graph?width=100&start={HOUR0}&end={HOUR0 + 6 * 3600}"
    answer = brewer_client.get(wider).json()
    assert (answer["start"], answer["end"]) == (HOUR0 + 3600, HOUR0 + 3 * 3600)


def test_a_range_before_the_beer_began_answers_its_first_second_and_a_reversed_one_is_refused(
    brewer_client, beer
):
    before = brewer_client.get(f"/api/beers/{beer.pk}/graph?width=100&end={HOUR0 - 86400}")
    reversed_range = brewer_client.get(
        f"/api/beers/{beer.pk}/graph?width=100&start={HOUR0 + 7200}&end={HOUR0 + 3600}"
    )

    assert before.status_code == 200
    answer = before.json()
    assert (answer["start"], answer["end"]) == (HOUR0 + 3600, HOUR0 + 3601)  # the window's edge
    assert reversed_range.status_code == 400


def test_an_active_beers_graph_runs_to_now(brewer_client, beer):
    beer.ended_at = None
    beer.save()

    answer = brewer_client.get(f"/api/beers/{beer.pk}/graph").json()

    assert answer["end"] > HOUR0 + 6 * 3600


# -- who may read it -----------------------------------------------------------------------------


def test_anonymous_visitors_are_refused_when_the_dashboard_requires_login(anonymous_client, beer):
    assert anonymous_client.get(device_url()).status_code == 401
    assert anonymous_client.get(f"/api/beers/{beer.pk}/graph").status_code == 401


def test_anonymous_visitors_read_graphs_when_the_dashboard_is_open(anonymous_client, beer):
    settings = BrewerySettings.load()
    settings.dashboard_requires_login = False
    settings.save()

    assert anonymous_client.get(device_url()).status_code == 200
    assert anonymous_client.get(f"/api/beers/{beer.pk}/graph").status_code == 200


def test_guests_read_graphs(guest_client, beer):
    assert guest_client.get(device_url()).status_code == 200
    assert guest_client.get(f"/api/beers/{beer.pk}/graph").status_code == 200


def test_a_share_token_opens_its_own_beer_only(anonymous_client, beer, device):
    token = beer.share()
    other = Beer.objects.create(device=device, name="Stout", started_at=HOUR0, ended_at=HOUR0 + 60)

    own = anonymous_client.get(f"/api/beers/{beer.pk}/graph?share={token}")
    another = anonymous_client.get(f"/api/beers/{other.pk}/graph?share={token}")
    device_graph = anonymous_client.get(device_url() + f"&share={token}")

    assert own.status_code == 200 and own.json()["t"]
    assert another.status_code == 403
    assert device_graph.status_code == 401


def test_a_revoked_or_garbled_share_token_opens_nothing(anonymous_client, beer):
    token = beer.share()
    beer.unshare()

    assert anonymous_client.get(f"/api/beers/{beer.pk}/graph?share={token}").status_code == 403
    assert anonymous_client.get(f"/api/beers/{beer.pk}/graph?share=%C3%A9").status_code == 403

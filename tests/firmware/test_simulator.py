"""The simulated fermentation chamber: physics, fermentation, sensors, faults and its scenario."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from fermentrack.firmware.simulator import (
    AIR_HEAT_CAPACITY_J_PER_L_K,
    REAL_EXTRACT_SHARE,
    SENSOR_STEP_C,
    WATER_HEAT_CAPACITY_J_PER_KG_K,
    ChamberSimulator,
    Scenario,
    matrix_exponential,
    plato_from_gravity,
)

HOUR = 3600
DAY = 24 * HOUR

# The yeast is pitched long after any of these tests ends: the chamber alone.
NO_FERMENTATION = {"fermentation_start_s": 10**8}


def run(sim: ChamberSimulator, seconds: int, **outputs: bool) -> None:
    heater = outputs.get("heater", False)
    cooler = outputs.get("cooler", False)
    fan = outputs.get("fan", False)
    light = outputs.get("light", False)
    for _ in range(seconds):
        sim.step(heater, cooler, fan, light)


def chamber(**settings: object) -> ChamberSimulator:
    return ChamberSimulator(Scenario.from_dict(settings))


# --- the chamber's physics ------------------------------------------------------------------


def test_fridge_left_alone_drifts_to_room_temperature() -> None:
    sim = chamber(fridge_start_c=4.0, beer_start_c=8.0, **NO_FERMENTATION)
    run(sim, 7 * DAY)
    assert sim.room_temperature == 20.0
    for temperature in (sim.fridge_temperature, sim.walls_temperature, sim.beer_temperature):
        assert temperature == pytest.approx(20.0, abs=0.1)


def test_cooler_pulls_the_fridge_down_first_and_then_the_beer() -> None:
    sim = chamber(**NO_FERMENTATION)
    run(sim, 30 * 60, cooler=True)
    assert sim.fridge_temperature < 20.0 - 5.0
    assert sim.walls_temperature < sim.fridge_temperature  # the evaporator is in the walls
    assert sim.beer_temperature > 20.0 - 0.5  # 88 kJ/K of beer has barely moved
    run(sim, 6 * HOUR, cooler=True)
    assert sim.beer_temperature < 20.0 - 5.0
    assert sim.fridge_temperature < sim.beer_temperature


def test_heater_warms_the_fridge_air_within_a_minute_and_the_beer_over_hours() -> None:
    sim = chamber(**NO_FERMENTATION)
    run(sim, 60, heater=True)
    assert sim.fridge_temperature > 20.0 + 3.0
    assert sim.beer_temperature < 20.0 + 0.1
    run(sim, 4 * HOUR, heater=True)
    assert sim.beer_temperature > 20.0 + 3.0
    assert sim.fridge_temperature > sim.beer_temperature


def test_fan_makes_the_beer_follow_the_fridge_faster() -> None:
    still, fanned = chamber(**NO_FERMENTATION), chamber(**NO_FERMENTATION)
    run(still, 2 * HOUR, heater=True)
    run(fanned, 2 * HOUR, heater=True, fan=True)
    assert fanned.beer_temperature > still.beer_temperature + 0.3


def test_open_door_pulls_the_fridge_air_toward_the_room() -> None:
    closed = chamber(fridge_start_c=4.0, beer_start_c=4.0, **NO_FERMENTATION)
    opened = chamber(
        fridge_start_c=4.0,
        beer_start_c=4.0,
        faults=[{"fault": "door_open", "start_s": 10, "duration_s": 120}],
        **NO_FERMENTATION,
    )
    run(closed, 10)
    run(opened, 10)
    assert opened.door_open
    run(closed, 120)
    run(opened, 120)
    assert not opened.door_open
    rise_closed = closed.fridge_temperature - 4.0
    rise_opened = opened.fridge_temperature - 4.0
    assert rise_opened > 2.0
    assert rise_opened > 5 * rise_closed


def test_room_follows_a_daily_curve_warmest_in_the_afternoon() -> None:
    sim = chamber(room_min_c=14.0, room_max_c=24.0, room_warmest_hour=15.0)
    readings = {}
    for hour in range(24):
        readings[hour] = sim.room_temperature
        run(sim, HOUR)
    assert max(readings, key=readings.__getitem__) == 15
    assert min(readings, key=readings.__getitem__) == 3
    assert readings[15] == pytest.approx(24.0, abs=0.05)
    assert readings[3] == pytest.approx(14.0, abs=0.05)


def test_clock_start_hour_sets_the_time_of_day_at_time_zero() -> None:
    sim = chamber(room_min_c=14.0, room_max_c=24.0, room_warmest_hour=15.0, clock_start_hour=15.0)
    assert sim.room_temperature == pytest.approx(24.0, abs=0.05)


def test_heat_put_in_equals_the_heat_stored_when_the_chamber_is_sealed() -> None:
    # No path to the room and no fermentation: every joule of heater, light and cooler stays.
    settings = {"walls_to_room_w_per_k": 0.0, "final_gravity": 1.050, **NO_FERMENTATION}
    scenario = Scenario.from_dict(settings)
    sim = ChamberSimulator(scenario)
    before = (sim.fridge_temperature, sim.walls_temperature, sim.beer_temperature)
    run(sim, 2 * HOUR, heater=True, fan=True)
    run(sim, HOUR, heater=True, light=True)
    run(sim, HOUR, cooler=True)
    after = (sim.fridge_temperature, sim.walls_temperature, sim.beer_temperature)
    energy_in = (
        scenario.heater_power_w * 3 * HOUR
        + scenario.light_power_w * HOUR
        - scenario.cooler_power_w * HOUR
    )
    capacities = (
        scenario.fridge_volume_l * AIR_HEAT_CAPACITY_J_PER_L_K,
        scenario.walls_heat_capacity_j_per_k,
        scenario.beer_volume_l * scenario.original_gravity * WATER_HEAT_CAPACITY_J_PER_KG_K,
    )
    stored = sum(c * (t1 - t0) for c, t0, t1 in zip(capacities, before, after, strict=True))
    assert stored == pytest.approx(energy_in, rel=0.01)


@pytest.mark.parametrize(
    "extreme",
    [
        {"fridge_volume_l": 20.0, "air_to_walls_w_per_k": 1000.0, "fan_exchange_factor": 10.0},
        {"fridge_volume_l": 20.0, "air_to_beer_w_per_k": 200.0, "beer_volume_l": 0.5},
        {"walls_heat_capacity_j_per_k": 500.0, "walls_to_room_w_per_k": 100.0},
        {"fridge_volume_l": 20.0, "open_door_w_per_k": 1000.0},
    ],
)
def test_extreme_but_allowed_figures_stay_stable(extreme: dict[str, float]) -> None:
    # With no power in, every node must stay between the coldest and warmest start: an
    # unstable step would overshoot and oscillate.
    sim = chamber(
        fridge_start_c=0.0,
        beer_start_c=40.0,
        faults=[{"fault": "door_open", "start_s": 0, "duration_s": 600}],
        **extreme,
        **NO_FERMENTATION,
    )
    for _ in range(3600):
        sim.step(False, False, True)
        for temperature in (sim.fridge_temperature, sim.walls_temperature, sim.beer_temperature):
            assert -1e-9 <= temperature <= 40.0 + 1e-9


def test_matrix_exponential_matches_the_known_solution_of_a_diagonal_matrix() -> None:
    e = matrix_exponential([[-3.0, 0.0], [0.0, 40.0 / 1000]])
    assert e[0][0] == pytest.approx(math.exp(-3.0), rel=1e-12)
    assert e[1][1] == pytest.approx(math.exp(0.04), rel=1e-12)
    assert e[0][1] == 0.0


# --- fermentation ---------------------------------------------------------------------------


def test_fermentation_heat_raises_an_uncontrolled_beer_a_few_degrees_above_the_room() -> None:
    sim = ChamberSimulator()
    warmest_above_room = 0.0
    for _ in range(5 * DAY):
        sim.step(False, False)
        warmest_above_room = max(warmest_above_room, sim.beer_temperature - sim.room_temperature)
    # A closed, switched-off fridge is an insulated box: 1 MJ over two days warms 20 L by ~5 K.
    assert 3.0 < warmest_above_room < 8.0


def test_peak_fermentation_heat_of_twenty_litres_of_ale_is_about_ten_watts() -> None:
    # 590 kJ per kg of real extract and a realistic fall of ~30 points a day at the peak give
    # ~10 W. "Tens of watts" would need a 1.050 ale to ferment out in under a day.
    sim = ChamberSimulator()
    peak_w = 0.0
    for _ in range(4 * DAY):
        sim.step(False, False)
        peak_w = max(peak_w, sim.fermentation_heat_w)
    assert 6.0 < peak_w < 20.0


def test_fermentation_heat_adds_up_to_the_heat_of_the_extract_fermented() -> None:
    scenario = Scenario()
    sim = ChamberSimulator(scenario)
    heat_j = 0.0
    for _ in range(6 * DAY):
        heat_j += sim.fermentation_heat_w
        sim.step(False, False)
    wort_kg = scenario.beer_volume_l * scenario.original_gravity
    apparent_plato_drop = plato_from_gravity(scenario.original_gravity) - plato_from_gravity(
        sim.gravity
    )
    extract_kg = wort_kg * REAL_EXTRACT_SHARE * apparent_plato_drop / 100
    assert heat_j == pytest.approx(590_000 * extract_kg, rel=1e-9)
    assert 0.9e6 < heat_j < 1.1e6


def test_gravity_falls_from_original_toward_final_gravity() -> None:
    sim = chamber(room_min_c=19.0, room_max_c=19.0)
    assert sim.gravity == 1.050
    gravities = []
    for _ in range(10 * 24):
        run(sim, HOUR)
        gravities.append(sim.gravity)
    assert all(later <= earlier for earlier, later in itertools.pairwise(gravities))
    assert gravities[11] > 1.048  # still in the lag phase after 12 h
    assert gravities[-1] == pytest.approx(1.010, abs=0.001)
    assert min(gravities) >= 1.010


def test_fermentation_is_faster_warm_than_cold() -> None:
    # No fermentation heat, so each beer stays at its room's temperature.
    warm = chamber(room_min_c=24.0, room_max_c=24.0, fermentation_heat_j_per_kg=0.0)
    cold = chamber(room_min_c=14.0, room_max_c=14.0, fermentation_heat_j_per_kg=0.0)
    run(warm, 2 * DAY)
    run(cold, 2 * DAY)
    assert warm.gravity < cold.gravity - 0.010


def test_nothing_ferments_before_the_yeast_is_pitched() -> None:
    sim = chamber(fermentation_start_s=DAY)
    run(sim, DAY - 60)
    assert sim.gravity == 1.050
    assert sim.fermentation_heat_w == 0.0
    run(sim, DAY)
    assert sim.gravity < 1.050
    assert sim.fermentation_heat_w > 0.0


def test_a_simulator_started_later_finds_the_fermentation_under_way() -> None:
    sim = ChamberSimulator(Scenario(), start_time_s=2 * DAY)
    assert sim.elapsed_s == 2 * DAY
    assert 1.010 < sim.gravity < 1.035


def test_changing_the_pitch_time_pitches_again_from_the_original_gravity() -> None:
    sim = ChamberSimulator()
    run(sim, 2 * DAY)
    assert sim.gravity < 1.040
    sim.apply_changes({"fermentation_start_s": 3 * DAY})
    assert sim.gravity == 1.050
    assert sim.fermentation_progress == 0.0


# --- sensors --------------------------------------------------------------------------------


def test_sensors_read_in_ds18b20_steps_of_a_sixteenth_of_a_degree() -> None:
    sim = chamber(fridge_start_c=4.03, beer_start_c=18.9)
    for _ in range(50):
        run(sim, 97, cooler=True)
        for name, exact in (("beer", sim.beer_temperature), ("fridge", sim.fridge_temperature)):
            reading = sim.read_celsius(name)
            assert reading is not None
            assert (reading / SENSOR_STEP_C).is_integer()
            assert abs(reading - exact) <= SENSOR_STEP_C / 2
    assert sim.read_celsius("room") == 20.0


def test_sensor_noise_is_reproducible_with_a_seed() -> None:
    def readings(seed: int) -> list[float | None]:
        sim = chamber(sensor_noise_c=0.2, seed=seed)
        values = []
        for _ in range(100):
            sim.step(False, False)
            values += [sim.read_celsius("beer"), sim.read_celsius("fridge")]
        return values

    first = readings(seed=7)
    assert first == readings(seed=7)
    assert first != readings(seed=8)
    assert all(value is not None and (value / SENSOR_STEP_C).is_integer() for value in first)
    assert len(set(first)) > 5  # σ = 0.2 °C spreads over several steps


def test_a_sensor_read_twice_in_the_same_second_reads_the_same() -> None:
    sim = chamber(sensor_noise_c=0.5, seed=1)
    sim.step(False, False)
    assert sim.read_celsius("beer") == sim.read_celsius("beer")


def test_dropped_out_sensor_reads_none_then_comes_back() -> None:
    sim = chamber(faults=[{"fault": "beer_dropout", "start_s": 100, "duration_s": 50}])
    run(sim, 99)
    assert sim.read_celsius("beer") is not None
    run(sim, 1)
    assert sim.read_celsius("beer") is None
    assert sim.read_celsius("fridge") is not None
    assert sim.snapshot()["sensors_dropped"] == ["beer"]
    run(sim, 49)
    assert sim.read_celsius("beer") is None
    run(sim, 1)
    assert sim.read_celsius("beer") == 20.0


def test_faults_can_be_added_while_running() -> None:
    sim = ChamberSimulator()
    run(sim, 500)
    sim.add_fault("fridge_dropout", duration_s=10)
    sim.add_fault("door_open", duration_s=30, start_s=520)
    assert sim.read_celsius("fridge") is None
    run(sim, 10)
    assert sim.read_celsius("fridge") is not None
    assert not sim.door_open
    run(sim, 10)
    assert sim.door_open
    run(sim, 30)
    assert not sim.door_open
    assert [f.fault for f in sim.scenario.faults] == ["fridge_dropout", "door_open"]


def test_a_sensor_not_fitted_reads_none() -> None:
    sim = chamber(room_sensor_fitted=False)
    assert sim.read_celsius("room") is None
    assert not sim.sensor_fitted("room")
    assert sim.sensor_fitted("beer")
    assert sim.room_temperature == 20.0  # the room is still there, just not measured


def test_reading_an_unknown_sensor_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'cellar'.*beer, fridge, room"):
        ChamberSimulator().read_celsius("cellar")


# --- the scenario ---------------------------------------------------------------------------


def test_unknown_setting_is_refused_naming_it_and_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown simulator setting 'beer_volume'.*beer_volume_l"):
        Scenario.from_dict({"beer_volume": 20})


def test_out_of_range_setting_is_refused_naming_key_value_and_range() -> None:
    with pytest.raises(ValueError, match=r"'cooler_power_w' = -5.0 .* from 0 to 10000 W"):
        Scenario.from_dict({"cooler_power_w": -5})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"beer_volume_l": "20"}, r"'beer_volume_l' must be a number.*got '20'"),
        ({"heater_power_w": True}, r"'heater_power_w' must be a number"),
        ({"room_sensor_fitted": "no"}, r"'room_sensor_fitted' must be true or false"),
        ({"seed": 1.5}, r"'seed' must be a whole number"),
        ({"original_gravity": float("nan")}, r"'original_gravity' = nan is out of range"),
        ({"final_gravity": 1.060}, r"final_gravity \(1.06\) must not be above original_gravity"),
        ({"room_min_c": 25.0}, r"room_min_c \(25.0\) must not be above room_max_c \(20.0\)"),
        ({"fermentation_lag_h": 72.0}, r"fermentation_days \(3.0 d\) must be between"),
        ({"faults": {"fault": "door_open"}}, r"'faults' must be a list"),
        ({"faults": [{"fault": "fire", "start_s": 0, "duration_s": 1}]}, r"faults\[0\].*'fire'"),
        ({"faults": [{"fault": "door_open", "start_s": 0}]}, r"faults\[0\] needs 'duration_s'"),
        (
            {"faults": [{"fault": "door_open", "start_s": -1, "duration_s": 5}]},
            r"faults\[0\] start_s = -1 is out of range",
        ),
    ],
)
def test_invalid_settings_are_refused_with_a_message_naming_them(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario.from_dict(settings)


def test_whole_number_floats_are_accepted_for_seconds() -> None:
    assert Scenario.from_dict({"fermentation_start_s": 3600.0}).fermentation_start_s == 3600


def test_scenario_survives_a_json_round_trip(tmp_path) -> None:
    scenario = Scenario.from_dict(
        {
            "beer_volume_l": 23,
            "room_min_c": 16.5,
            "room_max_c": 21.0,
            "beer_start_c": 12.0,
            "sensor_noise_c": 0.05,
            "seed": 42,
            "room_sensor_fitted": False,
            "faults": [{"fault": "door_open", "start_s": 3600, "duration_s": 60}],
        }
    )
    assert Scenario.from_json(scenario.to_json()) == scenario
    assert json.loads(scenario.to_json())["faults"][0]["fault"] == "door_open"
    path = tmp_path / "simulator.json"
    scenario.save(path)
    assert Scenario.load(path) == scenario


def test_missing_scenario_file_gives_the_defaults(tmp_path) -> None:
    assert Scenario.load(tmp_path / "simulator.json") == Scenario()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"heater_power_w": 1e9}', "'heater_power_w' = 1000000000.0 is out of range"),
    ],
)
def test_invalid_scenario_file_is_refused_naming_the_path_and_reason(
    tmp_path, text: str, reason: str
) -> None:
    path = tmp_path / "simulator.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"simulator\.json") as error:
        Scenario.load(path)
    assert reason in str(error.value)


def test_changes_while_running_take_effect_and_return_the_whole_scenario() -> None:
    sim = chamber(**NO_FERMENTATION)
    run(sim, 60, heater=True)
    warmed_by_60_w = sim.fridge_temperature - 20.0
    result = sim.apply_changes({"heater_power_w": 0.0})
    assert result["heater_power_w"] == 0.0
    assert result["beer_volume_l"] == 20.0
    before = sim.fridge_temperature
    run(sim, 60, heater=True)
    assert warmed_by_60_w > 3.0
    assert sim.fridge_temperature < before  # the "heater" now heats nothing


def test_refused_changes_leave_the_scenario_as_it_was() -> None:
    sim = ChamberSimulator()
    with pytest.raises(ValueError, match="'beer_volume_l'"):
        sim.apply_changes({"heater_power_w": 10.0, "beer_volume_l": -1})
    assert sim.scenario == Scenario()


def test_room_changes_while_running_apply_at_once() -> None:
    sim = ChamberSimulator()
    sim.apply_changes({"room_min_c": 10.0, "room_max_c": 10.0})
    assert sim.room_temperature == 10.0
    assert sim.read_celsius("room") == 10.0


def test_snapshot_holds_the_state_and_the_scenario() -> None:
    sim = ChamberSimulator()
    run(sim, DAY)
    snapshot = sim.snapshot()
    assert snapshot["time_s"] == DAY
    assert snapshot["beer_c"] == pytest.approx(sim.beer_temperature, abs=1e-4)
    assert snapshot["gravity"] == pytest.approx(sim.gravity, abs=1e-5)
    assert snapshot["fermentation_heat_w"] > 0
    assert snapshot["door_open"] is False
    assert snapshot["scenario"] == Scenario().to_dict()
    json.dumps(snapshot)  # the `Y` dump must serialise as it is

"""A simulated fermentation chamber: the "hardware" our firmware drives when none is fitted.

A lumped thermal model, stepped once per simulated second by the firmware's clock, fast enough
(a few µs per step) for benchmarks to run a 14-day fermentation in seconds.

Nodes (temperatures in °C, heat capacities in J/K):

- the fridge **air**: fridge_volume_l × 1.21 J/(L·K); 242 J/K for 200 L;
- the fridge **walls** and contents: the inner liner (4 kg of plastic, about 5.6 kJ/K), shelves
  and evaporator plate (2 to 3 kJ/K) and the inner layer of the foam. Default 10 kJ/K;
- the **beer**: beer_volume_l × gravity × 4180 J/(kg·K). For 20 L at 1.050 that is 88 kJ/K. It
  falls with the gravity as the beer ferments;
- the **room**: a boundary, not a node. A daily sine between room_min_c and room_max_c, warmest at
  room_warmest_hour. Constant when min = max; the default is a constant 20 °C.

Heat flows (W) and conductances (W/K):

- air↔walls 8 W/K: natural convection, about 4 W/(m²·K) over 2 m² of liner and shelves;
- walls↔room 2 W/K through the insulation: 2.9 m² of 50 mm polyurethane (0.5 W/(m²·K)) plus the
  door seal. That is a heat leak of 30 to 40 W at 15 to 20 K, which matches the yearly energy use
  of a 200 L fridge. §8.9's AVR model uses 1.67 W/K;
- air↔beer 3 W/K, through the fermenter wall, as §8.9. The outside air film dominates;
- the fan multiplies air↔walls and air↔beer by fan_exchange_factor (2: forced convection);
- an open door adds air↔room 15 W/K. The 200 L of air is replaced in about 20 s, so
  10 L/s × 1.21 J/(L·K) ≈ 12 W/K, plus the person standing in the door;
- the **cooler** takes 100 W out of the **walls**, not the air. In chest freezers and most
  fridges the evaporator is bonded to the inner liner (or is a plate on the back wall), so the
  air is cooled through the walls. The walls hold most of the fridge's heat capacity, so after
  the compressor stops the cold liner keeps the air down and lets it recover only slowly; a
  heater in the air, by contrast, moves the air within a minute. (With the air this light,
  the dip after the compressor stops is only a few hundredths of a degree: there is no
  evaporator node holding extra cold.) A small compressor (70 to 90 W electrical) extracts 100
  to 150 W at fridge temperatures;
- the **heater** puts 60 W into the air (a tube heater or ceramic reptile bulb, the usual
  conversion). The light puts 15 W into the air (a small bulb).

Fermentation: the share of the gravity drop done, x, follows autocatalytic kinetics,
dx/dt = r(T)·(x + x0)·(1 − x). The yeast's own growth gives the lag phase, then a peak, then a
tail. r(T) = r_ref · q10^((T − reference)/10), with T the beer temperature held between 0 and
40 °C. At the reference temperature, 5 % of the drop is done after fermentation_lag_h and 95 %
after fermentation_days; x0 and r_ref are solved from those two times. The gravity is
original − x·(original − final). The heat is 590 kJ per kg of real extract fermented. Real
extract comes from the ASBC Plato polynomial and Balling's rule: real extract fermented =
0.8192 × apparent drop. So the heat is consistent with the gravity curve, and it is 1.0 MJ in
total for the default 20 L at 1.050 to 1.010.

Defaults: the 5 % point at 18 h and the 95 % point at 3 days give a peak of about 7 W at a
steady 20 °C, at a gravity fall of 26 points/day. The peak is 10 W and more when the beer is left
to warm itself. Tens of watts from 20 L would need a fall of 55 points a day, which no real ale
manages. To make it harsher, raise fermentation_heat_j_per_kg or shorten fermentation_days.

Numerics: the model is linear with constant coefficients between changes of the outputs. So
each 1-s step uses the exact discrete-time solution x' = Φ·x + Γ·u (the matrix exponential of
the conductance matrix), not Euler. It is stable and exact for every parameter and needs no
sub-steps. Φ and Γ are computed once per fan/door combination. They are computed again only when
the beer's heat capacity has drifted by 0.5 %. The room temperature and the fermentation heat
are held for 60 s at a time.

Sensors read like DS18B20s: 0.0625 °C steps, optional gaussian noise from a seeded generator per
sensor, None when not fitted or dropped out by a fault.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

from fermentrack.firmware.scenario import Fault, Scenario

__all__ = ["SENSOR_NAMES", "ChamberSimulator", "Fault", "Scenario", "plato_from_gravity"]

SENSOR_NAMES = ("beer", "fridge", "room")

AIR_HEAT_CAPACITY_J_PER_L_K = 1.21
WATER_HEAT_CAPACITY_J_PER_KG_K = 4180.0
SENSOR_STEP_C = 0.0625  # DS18B20 at 12-bit resolution

# Balling: of an apparent extract drop, this share is real extract turned into alcohol and CO2.
REAL_EXTRACT_SHARE = 0.8192

# The room and the fermentation change slowly, so they are recomputed once a minute.
SLOW_UPDATE_S = 60

# The beer's heat capacity falls ~4 % over a fermentation; recompute the step matrices at 0.5 %.
BEER_CAPACITY_TOLERANCE = 0.005

# Yeast beyond these temperatures stalls or dies; the Q10 law is not extrapolated past them.
FERMENTATION_RATE_MIN_C = 0.0
FERMENTATION_RATE_MAX_C = 40.0

# The two points of the fermentation curve that fermentation_lag_h and fermentation_days name.
LAG_SHARE = 0.05
DONE_SHARE = 0.95

# Indexes into the 3-node state and the 4 inputs of the thermal model.
_AIR, _WALLS, _BEER = 0, 1, 2
_ROOM_IN, _AIR_IN, _WALLS_IN, _BEER_IN = 0, 1, 2, 3

_DOOR_INDEX = 16  # added to the heater/cooler/fan/light index while the door is open


def plato_from_gravity(gravity: float) -> float:
    """Degrees Plato (% extract by mass) of a specific gravity: the ASBC polynomial."""
    return -616.868 + (1111.14 + (-630.272 + 135.997 * gravity) * gravity) * gravity


class ChamberSimulator:
    """A fridge with a fermenting beer in a room, advanced one simulated second per `step`."""

    __slots__ = (
        "_air_c",
        "_beer_c",
        "_beer_capacity_j_per_k",
        "_booked_progress",
        "_coefficients",
        "_door_index",
        "_dropped",
        "_elapsed_s",
        "_exchange",
        "_fermentation_w",
        "_fermented_kg",
        "_fitted",
        "_gravity",
        "_next_event_s",
        "_next_fault_change_s",
        "_next_slow_update_s",
        "_noise",
        "_progress",
        "_rate_per_s",
        "_room_c",
        "_scenario",
        "_seed_progress",
        "_walls_c",
    )

    def __init__(self, scenario: Scenario | None = None, start_time_s: int = 0) -> None:
        """Start at `start_time_s` on the scenario's clock (fault and pitch times use it).

        The beer and fridge start at the scenario's starting temperatures (the room's by
        default). If the yeast was pitched before `start_time_s`, the fermentation starts as
        far along as it would be had the beer been at its starting temperature since then.
        """
        self._scenario = scenario if scenario is not None else Scenario()
        self._elapsed_s = int(start_time_s)
        self._restart_fermentation()
        self._set_derived_figures()
        sc = self._scenario
        self._room_c = self._room_at(self._elapsed_s)
        self._beer_c = sc.beer_start_c if sc.beer_start_c is not None else self._room_c
        self._air_c = sc.fridge_start_c if sc.fridge_start_c is not None else self._room_c
        self._walls_c = self._air_c
        self._noise = _SensorNoise(sc.seed, sc.sensor_noise_c)
        for time in range(
            sc.fermentation_start_s, self._elapsed_s - SLOW_UPDATE_S + 1, SLOW_UPDATE_S
        ):
            self._ferment(time, SLOW_UPDATE_S)
        self._dropped = [False, False, False]
        self._door_index = 0
        self._next_slow_update_s = self._elapsed_s
        self._next_fault_change_s = self._elapsed_s
        self._handle_events()

    # --- the hot path -------------------------------------------------------------------------

    def step(
        self, heater_on: bool, cooler_on: bool, fan_on: bool = False, light_on: bool = False
    ) -> None:
        """Advance exactly one second with these outputs on or off for all of it."""
        index = heater_on + 2 * cooler_on + 4 * fan_on + 8 * light_on + self._door_index
        c = self._coefficients[index]
        if c is None:
            c = self._build_coefficients(index)
        aa, aw, ab, a0, wa, ww, wb, w0, ba, bw, bb, b0 = c
        air = self._air_c
        walls = self._walls_c
        beer = self._beer_c
        self._air_c = aa * air + aw * walls + ab * beer + a0
        self._walls_c = wa * air + ww * walls + wb * beer + w0
        self._beer_c = ba * air + bw * walls + bb * beer + b0
        self._elapsed_s += 1
        if self._elapsed_s >= self._next_event_s:
            self._handle_events()

    def read_celsius(self, name: str) -> float | None:
        """What the sensor `name` ("beer", "fridge" or "room") reads now, as a DS18B20 would.

        None when the sensor is not fitted or a fault has it dropped out.
        """
        if name == "beer":
            index, value = 0, self._beer_c
        elif name == "fridge":
            index, value = 1, self._air_c
        elif name == "room":
            index, value = 2, self._room_c
        else:
            raise ValueError(f"no sensor {name!r}; the sensors are {', '.join(SENSOR_NAMES)}")
        if self._dropped[index] or not self._fitted[index]:
            return None
        if self._noise.sigma_c:
            value += self._noise.at(index, self._elapsed_s)
        return round(value / SENSOR_STEP_C) * SENSOR_STEP_C

    # --- exact values, for the firmware's other inputs, tests and benchmarks ------------------

    @property
    def elapsed_s(self) -> int:
        """Seconds on the scenario's clock (starts at start_time_s)."""
        return self._elapsed_s

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @property
    def beer_temperature(self) -> float:
        return self._beer_c

    @property
    def fridge_temperature(self) -> float:
        """The fridge air, where the fridge sensor hangs."""
        return self._air_c

    @property
    def walls_temperature(self) -> float:
        return self._walls_c

    @property
    def room_temperature(self) -> float:
        return self._room_c

    @property
    def gravity(self) -> float:
        return self._gravity

    @property
    def fermentation_heat_w(self) -> float:
        return self._fermentation_w

    @property
    def fermentation_progress(self) -> float:
        """The share of the drop from original to final gravity done so far, 0 to 1."""
        return self._progress

    @property
    def door_open(self) -> bool:
        return self._door_index != 0

    def sensor_fitted(self, name: str) -> bool:
        """Whether the scenario has the sensor `name` at all (a dropped-out one is still fitted)."""
        if name not in SENSOR_NAMES:
            raise ValueError(f"no sensor {name!r}; the sensors are {', '.join(SENSOR_NAMES)}")
        return self._fitted[SENSOR_NAMES.index(name)]

    # --- changes while running ----------------------------------------------------------------

    def apply_changes(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change scenario settings now (the `y{...}` command); returns the whole new scenario.

        Checked like `Scenario.from_dict`; nothing changes if any key is refused. Changing
        fermentation_start_s pitches the yeast again: the fermentation restarts from the
        original gravity. Starting temperatures only matter when a simulator is created.
        """
        old = self._scenario
        new = old.with_changes(changes)
        self._scenario = new
        if new.seed != old.seed or new.sensor_noise_c != old.sensor_noise_c:
            self._noise = _SensorNoise(new.seed, new.sensor_noise_c)
        if new.fermentation_start_s != old.fermentation_start_s:
            self._restart_fermentation()
        else:
            # Rebase the bookkeeping on the new gravities so the heat does not jump.
            self._gravity = self._gravity_at(self._progress)
            booked_gravity = self._gravity_at(self._booked_progress)
            self._fermented_kg = self._extract_fermented_kg(booked_gravity)
        self._set_derived_figures()
        self._room_c = self._room_at(self._elapsed_s)
        self._next_fault_change_s = self._elapsed_s
        self._handle_events()
        return new.to_dict()

    def add_fault(self, fault: str, duration_s: int, start_s: int | None = None) -> Fault:
        """Schedule a fault ("beer_dropout", "fridge_dropout", "room_dropout" or "door_open").

        It starts at `start_s` on the scenario's clock, or now. It becomes part of the scenario.
        """
        start = self._elapsed_s if start_s is None else start_s
        added = Fault.from_dict({"fault": fault, "start_s": start, "duration_s": duration_s})
        self._scenario = replace(self._scenario, faults=(*self._scenario.faults, added))
        self._next_fault_change_s = self._elapsed_s
        self._handle_events()
        return added

    def physical_state(self) -> dict[str, float]:
        """What a restart needs to carry on where it stopped (the firmware saves it)."""
        return {
            "elapsed_s": self._elapsed_s,
            "air_c": self._air_c,
            "walls_c": self._walls_c,
            "beer_c": self._beer_c,
            "progress": self._booked_progress,
        }

    @classmethod
    def resume(cls, scenario: Scenario, state: dict[str, float]) -> ChamberSimulator:
        """A simulator carrying on from `physical_state()`: temperatures and fermentation.

        Raises ValueError for a state that is not one `physical_state` wrote.
        """
        try:
            elapsed = int(state["elapsed_s"])
            temperatures = [float(state[key]) for key in ("air_c", "walls_c", "beer_c")]
            progress = float(state["progress"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"simulator state is incomplete or invalid: {error!r}") from None
        if not 0.0 <= progress <= 1.0 or not all(-60.0 < t < 120.0 for t in temperatures):
            raise ValueError(f"simulator state is out of range: {state!r}")
        simulator = cls(scenario, start_time_s=elapsed)
        simulator._air_c, simulator._walls_c, simulator._beer_c = temperatures
        simulator._booked_progress = progress
        simulator._fermented_kg = simulator._extract_fermented_kg(simulator._gravity_at(progress))
        simulator._next_slow_update_s = elapsed  # recompute heat and gravity at the next step
        simulator._handle_events()
        return simulator

    def snapshot(self) -> dict[str, Any]:
        """The state and the scenario, for the `Y` dump."""
        return {
            "time_s": self._elapsed_s,
            "room_c": round(self._room_c, 4),
            "fridge_c": round(self._air_c, 4),
            "walls_c": round(self._walls_c, 4),
            "beer_c": round(self._beer_c, 4),
            "gravity": round(self._gravity, 5),
            "fermentation_heat_w": round(self._fermentation_w, 3),
            "fermentation_progress": round(self._progress, 5),
            "door_open": self.door_open,
            "sensors_dropped": [
                n for n, gone in zip(SENSOR_NAMES, self._dropped, strict=True) if gone
            ],
            "scenario": self._scenario.to_dict(),
        }

    # --- slow updates and events --------------------------------------------------------------

    def _handle_events(self) -> None:
        """Bring the room, fermentation and faults up to the current second."""
        now = self._elapsed_s
        if now >= self._next_slow_update_s:
            self._room_c = self._room_at(now + SLOW_UPDATE_S / 2)
            self._ferment(now, SLOW_UPDATE_S)
            capacity = self._beer_capacity()
            if abs(capacity / self._beer_capacity_j_per_k - 1.0) > BEER_CAPACITY_TOLERANCE:
                self._beer_capacity_j_per_k = capacity
                self._exchange = {}
            self._next_slow_update_s = now + SLOW_UPDATE_S
            self._coefficients = [None] * 32  # room and heat are folded into them
        if now >= self._next_fault_change_s:
            self._apply_faults(now)
        self._next_event_s = min(self._next_slow_update_s, self._next_fault_change_s)

    def _apply_faults(self, now: int) -> None:
        dropped = [False, False, False]
        door_open = False
        next_change = math.inf
        for fault in self._scenario.faults:
            if fault.start_s <= now < fault.end_s:
                if fault.fault == "door_open":
                    door_open = True
                else:
                    dropped[SENSOR_NAMES.index(fault.fault.removesuffix("_dropout"))] = True
            for edge in (fault.start_s, fault.end_s):
                if edge > now:
                    next_change = min(next_change, edge)
        self._dropped = dropped
        self._door_index = _DOOR_INDEX if door_open else 0
        self._next_fault_change_s = next_change

    def _room_at(self, time_s: float) -> float:
        sc = self._scenario
        middle = (sc.room_min_c + sc.room_max_c) / 2
        swing = (sc.room_max_c - sc.room_min_c) / 2
        hour = sc.clock_start_hour + time_s / 3600.0
        return middle + swing * math.cos(2.0 * math.pi * (hour - sc.room_warmest_hour) / 24.0)

    # --- fermentation -------------------------------------------------------------------------

    def _restart_fermentation(self) -> None:
        self._progress = 0.0
        self._booked_progress = 0.0
        self._gravity = self._scenario.original_gravity
        self._fermented_kg = 0.0
        self._fermentation_w = 0.0

    def _ferment(self, now: float, seconds: float) -> None:
        """Ferment for the next `seconds` at the current beer temperature; set the heat for them.

        The heat must be known as the minute starts, so the minute's fermentation is booked
        ahead; the gravity shows only what is done by now. A pitch time between two slow updates
        takes effect at the next one, up to a minute late.
        """
        sc = self._scenario
        self._progress = self._booked_progress
        self._gravity = self._gravity_at(self._progress)
        if now < sc.fermentation_start_s or self._progress >= 1.0:
            self._fermentation_w = 0.0
            return
        temperature = min(max(self._beer_c, FERMENTATION_RATE_MIN_C), FERMENTATION_RATE_MAX_C)
        rate = self._rate_per_s * sc.fermentation_q10 ** (
            (temperature - sc.fermentation_reference_c) / 10.0
        )
        x = self._progress
        x = min(1.0, x + rate * (x + self._seed_progress) * (1.0 - x) * seconds)
        self._booked_progress = x
        fermented_kg = self._extract_fermented_kg(self._gravity_at(x))
        heat_j = sc.fermentation_heat_j_per_kg * (fermented_kg - self._fermented_kg)
        self._fermented_kg = fermented_kg
        self._fermentation_w = heat_j / seconds

    def _gravity_at(self, progress: float) -> float:
        sc = self._scenario
        return sc.original_gravity - progress * (sc.original_gravity - sc.final_gravity)

    def _extract_fermented_kg(self, gravity: float) -> float:
        sc = self._scenario
        wort_kg = sc.beer_volume_l * sc.original_gravity
        apparent_drop = plato_from_gravity(sc.original_gravity) - plato_from_gravity(gravity)
        return wort_kg * REAL_EXTRACT_SHARE * apparent_drop / 100.0

    # --- the thermal model's coefficients -----------------------------------------------------

    def _set_derived_figures(self) -> None:
        """Everything computed from the scenario; caches are emptied to be rebuilt on demand."""
        sc = self._scenario
        self._seed_progress, self._rate_per_s = fermentation_kinetics(
            sc.fermentation_lag_h * 3600.0, sc.fermentation_days * 86400.0
        )
        self._fitted = (sc.beer_sensor_fitted, sc.fridge_sensor_fitted, sc.room_sensor_fitted)
        self._beer_capacity_j_per_k = self._beer_capacity()
        self._exchange = {}
        self._coefficients = [None] * 32

    def _beer_capacity(self) -> float:
        return self._scenario.beer_volume_l * self._gravity * WATER_HEAT_CAPACITY_J_PER_KG_K

    def _build_coefficients(self, index: int) -> tuple[float, ...]:
        """The step's 12 numbers for one combination of outputs and door, room and heat folded in.

        Row by row (air, walls, beer): three Φ entries, then the constant from the inputs.
        """
        sc = self._scenario
        heater_on, cooler_on = index & 1, index & 2
        fan_on, light_on, door_open = index & 4, index & 8, index & _DOOR_INDEX
        phi, gamma = self._exchange_matrices(bool(fan_on), bool(door_open))
        inputs = [0.0, 0.0, 0.0, 0.0]
        inputs[_ROOM_IN] = self._room_c
        inputs[_AIR_IN] = (sc.heater_power_w if heater_on else 0.0) + (
            sc.light_power_w if light_on else 0.0
        )
        inputs[_WALLS_IN] = -sc.cooler_power_w if cooler_on else 0.0
        inputs[_BEER_IN] = self._fermentation_w
        coefficients: list[float] = []
        for node in (_AIR, _WALLS, _BEER):
            coefficients.extend(phi[node])
            coefficients.append(sum(g * u for g, u in zip(gamma[node], inputs, strict=True)))
        c = tuple(coefficients)
        self._coefficients[index] = c
        return c

    def _exchange_matrices(
        self, fan_on: bool, door_open: bool
    ) -> tuple[list[list[float]], list[list[float]]]:
        """Φ (3×3) and Γ (3×4) of the exact 1-s step, for this fan and door state."""
        key = (fan_on, door_open)
        cached = self._exchange.get(key)
        if cached is not None:
            return cached
        sc = self._scenario
        fan = sc.fan_exchange_factor if fan_on else 1.0
        air_walls = sc.air_to_walls_w_per_k * fan
        air_beer = sc.air_to_beer_w_per_k * fan
        air_room = sc.open_door_w_per_k if door_open else 0.0
        walls_room = sc.walls_to_room_w_per_k
        air_c = sc.fridge_volume_l * AIR_HEAT_CAPACITY_J_PER_L_K
        walls_c = sc.walls_heat_capacity_j_per_k
        beer_c = self._beer_capacity_j_per_k
        # dT/dt = A·T + B·u with u = (room °C, W into air, W into walls, W into beer); the
        # exponential of [[A, B], [0, 0]] holds Φ = e^A and Γ = ∫e^(As)ds·B side by side.
        m = [[0.0] * 7 for _ in range(7)]
        m[_AIR][_AIR] = -(air_walls + air_beer + air_room) / air_c
        m[_AIR][_WALLS] = air_walls / air_c
        m[_AIR][_BEER] = air_beer / air_c
        m[_AIR][3 + _ROOM_IN] = air_room / air_c
        m[_AIR][3 + _AIR_IN] = 1.0 / air_c
        m[_WALLS][_AIR] = air_walls / walls_c
        m[_WALLS][_WALLS] = -(air_walls + walls_room) / walls_c
        m[_WALLS][3 + _ROOM_IN] = walls_room / walls_c
        m[_WALLS][3 + _WALLS_IN] = 1.0 / walls_c
        m[_BEER][_AIR] = air_beer / beer_c
        m[_BEER][_BEER] = -air_beer / beer_c
        m[_BEER][3 + _BEER_IN] = 1.0 / beer_c
        e = matrix_exponential(m)
        result = ([row[:3] for row in e[:3]], [row[3:] for row in e[:3]])
        self._exchange[key] = result
        return result


class _SensorNoise:
    """Gaussian noise per sensor, one draw per simulated second, from a stream per sensor.

    Reading a sensor twice in the same second gives the same value, as a DS18B20 returns its
    last conversion, and one sensor's reads do not shift another's noise.
    """

    __slots__ = ("_last", "_streams", "sigma_c")

    def __init__(self, seed: int, sigma_c: float) -> None:
        self.sigma_c = sigma_c
        self._streams = [random.Random(f"{seed}/{name}") for name in SENSOR_NAMES]
        self._last: list[tuple[int, float]] = [(-1, 0.0)] * len(SENSOR_NAMES)

    def at(self, index: int, time_s: int) -> float:
        last_time, last_value = self._last[index]
        if last_time == time_s:
            return last_value
        value = self._streams[index].gauss(0.0, self.sigma_c)
        self._last[index] = (time_s, value)
        return value


def fermentation_kinetics(lag_s: float, done_s: float) -> tuple[float, float]:
    """(x0, r) for dx/dt = r·(x + x0)·(1 − x) with x(0) = 0, x(lag_s) = 5 %, x(done_s) = 95 %.

    Its solution reaches share x at t(x) = ln((x + x0) / (x0·(1 − x))) / (r·(1 + x0)). The ratio
    t(95 %)/t(5 %) depends on x0 alone and grows from 1 to about 58 as x0 grows, so x0 is found
    by bisection on that ratio and r follows from the lag.
    """

    def time_ratio(x0: float) -> float:
        return _log_odds(DONE_SHARE, x0) / _log_odds(LAG_SHARE, x0)

    wanted = done_s / lag_s
    low, high = math.log(1e-12), math.log(1e6)
    for _ in range(100):
        middle = (low + high) / 2
        if time_ratio(math.exp(middle)) < wanted:
            low = middle
        else:
            high = middle
    x0 = math.exp((low + high) / 2)
    rate = _log_odds(LAG_SHARE, x0) / (lag_s * (1.0 + x0))
    return x0, rate


def _log_odds(share: float, x0: float) -> float:
    return math.log((share + x0) / (x0 * (1.0 - share)))


def matrix_exponential(m: list[list[float]]) -> list[list[float]]:
    """e^m for a small square matrix: Taylor series after scaling to norm ≤ 0.5, then squaring."""
    n = len(m)
    norm = max(sum(abs(v) for v in row) for row in m)
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    scale = 0.5**squarings
    x = [[v * scale for v in row] for row in m]
    result = [[float(i == j) for j in range(n)] for i in range(n)]
    term = [row[:] for row in result]
    # With norm ≤ 0.5, the 18th term is below 0.5^18/18! ≈ 6e-22: far under a double's precision.
    for k in range(1, 18):
        term = [[v / k for v in row] for row in _multiply(term, x)]
        result = [
            [a + b for a, b in zip(ra, rb, strict=True)]
            for ra, rb in zip(result, term, strict=True)
        ]
    for _ in range(squarings):
        result = _multiply(result, result)
    return result


def _multiply(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    columns = list(zip(*b, strict=True))
    return [[sum(x * y for x, y in zip(row, col, strict=True)) for col in columns] for row in a]

"""Gravity sensors (manual, Tilt, Tilt through a TiltBridge, iSpindel), their readings and their
calibration points.

Readings are rows keyed by (sensor, ts), like a device's log points. A reading keeps what the
hydrometer sent (`raw`: a Tilt's own SG, or an iSpindel's angle) next to the gravity calibrated
from it, so a new calibration restates every stored reading. Nothing a person did is lost to a
recalibration: a hidden reading stays hidden, a corrected one keeps its correction.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Q

from fermentrack.gravity import hygiene
from fermentrack.gravity.calibration import polynomial
from fermentrack.gravity.tilt import COLOURS
from fermentrack.gravity.units import (
    c_to_f,
    f_to_c,
    plato_to_sg,
    sg_to_plato,
    temperature_corrected_sg,
)
from fermentrack.web.devices.models import TempFormat, hash_token

GRAVITY_DECIMALS = 4  # a Tilt Pro and an iSpindel resolve the fourth decimal
OUTLIER_WINDOW = 5  # readings in the median window of hygiene.outliers


class SensorKind(models.TextChoices):
    MANUAL = "manual", "Manual readings (a hydrometer or refractometer)"
    TILT = "tilt", "Tilt, heard over Bluetooth by this computer"
    TILTBRIDGE = "tiltbridge", "Tilt, through a TiltBridge"
    ISPINDEL = "ispindel", "iSpindel"


# How often a sensor of each kind reports, unless the brewer says otherwise; a reading older
# than twice this is stale. Our scanner posts every 30 s, a TiltBridge every 30 s by default,
# an iSpindel wakes every 15 min by default, and a person checks about once a day.
DEFAULT_INTERVAL_S = {
    SensorKind.MANUAL: 86400,
    SensorKind.TILT: 60,
    SensorKind.TILTBRIDGE: 60,
    SensorKind.ISPINDEL: 900,
}
TILT_KINDS = (SensorKind.TILT, SensorKind.TILTBRIDGE)
TILT_COLOURS = [(colour, colour) for colour in COLOURS]


class GravityUnit(models.TextChoices):
    SG = "sg", "Specific gravity (1.048)"
    PLATO = "plato", "Degrees Plato (11.9 °P)"


class GravitySensor(models.Model):
    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=SensorKind.choices)
    device = models.ForeignKey(
        "devices.Device",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gravity_sensors",
        help_text="the chamber it floats in; its readings go on that chamber's beer graphs",
    )
    colour = models.CharField(max_length=8, choices=TILT_COLOURS, blank=True)
    bridge_mdns_id = models.CharField(
        "TiltBridge name",
        max_length=31,
        blank=True,
        help_text="the bridge's mDNS name without .local, e.g. tiltbridge or cellar-bridge",
    )
    name_on_device = models.CharField(
        "name on the iSpindel",
        max_length=32,
        blank=True,
        help_text="the Name set in the iSpindel's configuration page; it identifies its posts",
    )
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    expected_interval_s = models.PositiveIntegerField(
        "expected interval (s)",
        help_text="how often it reports; a reading older than twice this shows as stale",
    )
    display_unit = models.CharField(
        max_length=5, choices=GravityUnit.choices, default=GravityUnit.SG
    )
    temp_format = models.CharField(
        "temperature unit", max_length=1, choices=TempFormat.choices, default=TempFormat.CELSIUS
    )
    # Tilt: SG = b·x² + c·x + d, x the Tilt's own SG (gravity-and-push.md §4.1).
    tilt_b = models.FloatField("x² coefficient (b)", default=0.0)
    tilt_c = models.FloatField("x coefficient (c)", default=1.0)
    tilt_d = models.FloatField("constant (d)", default=0.0)
    # iSpindel: SG = a·x³ + b·x² + c·x + d, x the angle in degrees (§4.3). All zero: not yet
    # calibrated, so its readings carry an angle but no gravity.
    ispindel_a = models.FloatField("x³ coefficient (a)", default=0.0)
    ispindel_b = models.FloatField("x² coefficient (b)", default=0.0)
    ispindel_c = models.FloatField("x coefficient (c)", default=0.0)
    ispindel_d = models.FloatField("constant (d)", default=0.0)
    temperature_offset = models.FloatField(
        default=0.0,
        help_text="added to every temperature received from now on, in the sensor's unit",
    )
    correct_to_60f = models.BooleanField(
        "Correct gravity for temperature",
        default=False,
        help_text="state the gravity as a hydrometer calibrated at 60 °F (15.6 °C) would read "
        "it, from the reading's own temperature",
    )
    active = models.BooleanField(default=True, help_text="store what it sends")
    # What the hydrometer last said about itself: firmware version, Tilt Pro, chip ID.
    reported = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_on_device"],
                condition=Q(kind="ispindel"),
                name="one_sensor_per_ispindel_name",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.expected_interval_s:
            self.expected_interval_s = DEFAULT_INTERVAL_S[SensorKind(self.kind)]
        super().save(*args, **kwargs)

    # -- identity ------------------------------------------------------------------------------

    @property
    def is_tilt(self) -> bool:
        return self.kind in TILT_KINDS

    def describe(self) -> str:
        """What it is, in a brewer's words: 'Purple Tilt on TiltBridge cellar-bridge'."""
        if self.kind == SensorKind.TILT:
            return f"{self.colour} Tilt over Bluetooth"
        if self.kind == SensorKind.TILTBRIDGE:
            return f"{self.colour} Tilt on TiltBridge {self.bridge_mdns_id}"
        if self.kind == SensorKind.ISPINDEL:
            return f"iSpindel {self.name_on_device}"
        return "Manual readings"

    def set_token(self, token: str) -> None:
        """Posts must carry `token` from now on; an empty token lifts the requirement."""
        self.token_hash = hash_token(token) if token else ""

    def token_accepts(self, token: object) -> bool:
        """A sensor without a token accepts any post; one with a token only posts carrying it."""
        if not self.token_hash:
            return True
        if not isinstance(token, str) or not token:
            return False
        return secrets.compare_digest(self.token_hash, hash_token(token))

    # -- calibration ---------------------------------------------------------------------------

    @property
    def coefficients(self) -> tuple[float, ...]:
        """The calibration polynomial, highest power first; () for a manual sensor."""
        if self.is_tilt:
            return (self.tilt_b, self.tilt_c, self.tilt_d)
        if self.kind == SensorKind.ISPINDEL:
            return (self.ispindel_a, self.ispindel_b, self.ispindel_c, self.ispindel_d)
        return ()

    def set_coefficients(self, coefficients: tuple[float, ...] | list[float]) -> None:
        """Store a fit's coefficients (highest power first); a lower-degree fit zeroes the
        higher terms, so no term of an older fit survives."""
        fields = self.coefficient_fields()
        if len(coefficients) > len(fields):
            raise ValueError(
                f"{len(coefficients)} coefficients given; a {self.get_kind_display()} "
                f"calibration takes at most {len(fields)}"
            )
        padded = [0.0] * (len(fields) - len(coefficients)) + [float(c) for c in coefficients]
        for field, value in zip(fields, padded, strict=True):
            setattr(self, field, value)

    def coefficient_fields(self) -> tuple[str, ...]:
        if self.is_tilt:
            return ("tilt_b", "tilt_c", "tilt_d")
        if self.kind == SensorKind.ISPINDEL:
            return ("ispindel_a", "ispindel_b", "ispindel_c", "ispindel_d")
        return ()

    @property
    def calibrated(self) -> bool:
        """An iSpindel with every coefficient zero has not been calibrated yet."""
        return any(self.coefficients) if self.kind == SensorKind.ISPINDEL else True

    def gravity_from_raw(self, raw: float | None, temperature: float | None = None) -> float | None:
        """SG from what the hydrometer sent, by the calibration, and corrected to 60 °F from
        `temperature` (the sensor's unit) when the sensor says so; None when there is no raw
        value, no calibration yet, or the polynomial gives no finite number."""
        if raw is None or not self.coefficients or not self.calibrated:
            return None
        gravity = polynomial(self.coefficients, raw)
        if self.correct_to_60f and temperature is not None and math.isfinite(gravity):
            temp_c = self.temperature_c(temperature)
            gravity = temperature_corrected_sg(gravity, c_to_f(temp_c))
        if not math.isfinite(gravity):
            return None
        return round(gravity, GRAVITY_DECIMALS)

    # -- units ---------------------------------------------------------------------------------

    def gravity_in_unit(self, sg: float | None) -> float | None:
        """SG in the sensor's display unit (SG to 4 decimals, °P to 2)."""
        if sg is None:
            return None
        if self.display_unit == GravityUnit.PLATO:
            return round(sg_to_plato(sg), 2)
        return round(sg, GRAVITY_DECIMALS)

    def sg_from_unit(self, value: float) -> float:
        """A gravity typed in the sensor's display unit, as SG."""
        if self.display_unit == GravityUnit.PLATO:
            return round(plato_to_sg(value), GRAVITY_DECIMALS)
        return value

    def format_gravity(self, sg: float | None) -> str:
        """'1.048' or '11.9 °P'; '–' for no value."""
        return format_gravity(sg, self.display_unit)

    @property
    def gravity_unit_label(self) -> str:
        return "°P" if self.display_unit == GravityUnit.PLATO else "SG"

    def temperature_c(self, temperature: float | None) -> float | None:
        """A temperature in the sensor's unit, in °C (for the hygiene limits)."""
        if temperature is None or self.temp_format == TempFormat.CELSIUS:
            return temperature
        return f_to_c(temperature)

    def temperature_from(self, value: float, unit: str) -> float:
        """`value` degrees in `unit` ('C', 'F' or 'K'), in the sensor's unit with its offset."""
        celsius = {"C": value, "F": f_to_c(value), "K": value - 273.15}[unit]
        here = celsius if self.temp_format == TempFormat.CELSIUS else c_to_f(celsius)
        return round(here + self.temperature_offset, 2)

    # -- a new reading -------------------------------------------------------------------------

    def new_reading(
        self,
        ts: int,
        *,
        raw: float | None = None,
        gravity: float | None = None,
        temperature: float | None = None,
        temp_unit: str = "C",
        battery: float | None = None,
        rssi: int | None = None,
        extra: dict | None = None,
        manual: bool = False,
        note: str = "",
    ) -> GravityReading:
        """An unsaved reading: gravity calibrated from `raw` when the hydrometer sent one (else
        `gravity` as given, SG), temperature converted from `temp_unit` with the sensor's
        offset. Raises ReadingRefused saying why when a value cannot be physical."""
        if temperature is not None:
            temperature = self.temperature_from(temperature, temp_unit)
        if raw is not None:
            gravity = self.gravity_from_raw(raw, temperature)
        problem = hygiene.reading_problem(gravity, self.temperature_c(temperature))
        if problem:
            raise ReadingRefused(problem)
        return GravityReading(
            sensor=self,
            device_id=self.device_id,
            ts=ts,
            gravity=gravity,
            raw=raw,
            temperature=temperature,
            battery=battery,
            rssi=rssi,
            extra=extra or {},
            manual=manual,
            note=note,
        )

    # -- what changes stored readings ----------------------------------------------------------

    def recalibrate(self) -> RecalibrationResult:
        """Restate the gravity of every stored reading from its raw value by the current
        calibration (manual readings have no raw value and stay as typed); then mark the
        outliers again. Readings the new calibration puts outside the physical limits keep
        their raw value and lose their gravity."""
        restated = unphysical = 0
        with transaction.atomic():
            changed = []
            readings = self.readings.filter(raw__isnull=False).only(
                "id", "raw", "gravity", "temperature"
            )
            for reading in readings.iterator(chunk_size=2000):
                gravity = self.gravity_from_raw(reading.raw, reading.temperature)
                if gravity is not None and hygiene.reading_problem(gravity, None):
                    gravity = None
                    unphysical += 1
                if gravity != reading.gravity:
                    reading.gravity = gravity
                    changed.append(reading)
                restated += 1
            GravityReading.objects.bulk_update(changed, ["gravity"], batch_size=1000)
            refresh_outliers(self)
        return RecalibrationResult(restated=restated, unphysical=unphysical)

    def change_temperature_unit(self, old: str) -> None:
        """Convert stored temperatures from `old` to the sensor's (new) unit."""
        if old == self.temp_format:
            return
        readings = self.readings.filter(temperature__isnull=False)
        if self.temp_format == TempFormat.FAHRENHEIT:
            readings.update(temperature=models.F("temperature") * 9.0 / 5.0 + 32.0)
        else:
            readings.update(temperature=(models.F("temperature") - 32.0) * 5.0 / 9.0)


class ReadingRefused(ValueError):
    """A reading outside the physical limits (hygiene.py); the message says which value."""


@dataclass(frozen=True)
class RecalibrationResult:
    restated: int  # readings whose gravity was worked out again from their raw value
    unphysical: int  # of those, how many came out outside the physical limits


def format_gravity(sg: float | None, unit: str, *, precise: bool = False) -> str:
    """'1.048' or '11.9 °P' ('1.0480', '11.92 °P' when `precise`); '–' for no value."""
    if sg is None:
        return "–"
    if unit == GravityUnit.PLATO:
        return f"{sg_to_plato(sg):.{2 if precise else 1}f} °P"
    return f"{sg:.{4 if precise else 3}f}"


class GravityReading(models.Model):
    """One reading of a sensor at one second."""

    sensor = models.ForeignKey(GravitySensor, on_delete=models.CASCADE, related_name="readings")
    # The chamber the sensor was in when the reading arrived: a Tilt moved to the next
    # fermenter leaves the finished beer's graph as it was.
    device = models.ForeignKey(
        "devices.Device",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gravity_readings",
    )
    ts = models.BigIntegerField(help_text="Unix seconds, UTC")
    gravity = models.FloatField(null=True, blank=True, help_text="SG after calibration")
    raw = models.FloatField(
        null=True,
        blank=True,
        help_text="what the hydrometer sent: a Tilt's SG, an iSpindel's angle",
    )
    temperature = models.FloatField(null=True, blank=True, help_text="in the sensor's unit")
    battery = models.FloatField(null=True, blank=True, help_text="volts")
    rssi = models.IntegerField(null=True, blank=True, help_text="dBm")
    extra = models.JSONField(default=dict, blank=True)
    outlier = models.BooleanField(default=False, help_text="a spike among its neighbours")
    hidden = models.BooleanField(default=False, help_text="left out of graphs by a person")
    corrected_gravity = models.FloatField(
        null=True, blank=True, help_text="SG a person put in place of the measured one"
    )
    manual = models.BooleanField(default=False, help_text="entered by a person")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-ts"]
        constraints = [
            models.UniqueConstraint(fields=["sensor", "ts"], name="one_reading_per_sensor_second")
        ]
        indexes = [models.Index(fields=["device", "ts"], name="gravity_reading_device_ts")]

    @property
    def shown_gravity(self) -> float | None:
        """The gravity a brewer should see: the person's correction when there is one."""
        return self.corrected_gravity if self.corrected_gravity is not None else self.gravity

    @property
    def counts(self) -> bool:
        """Whether graphs and 'latest gravity' use this reading."""
        return not self.hidden and not self.outlier and self.shown_gravity is not None


class CalibrationPoint(models.Model):
    """A measured value (a Tilt's SG, or an iSpindel's angle) next to the true SG."""

    sensor = models.ForeignKey(
        GravitySensor, on_delete=models.CASCADE, related_name="calibration_points"
    )
    measured = models.FloatField()
    actual_gravity = models.FloatField()

    class Meta:
        ordering = ["measured"]


class ScannerCredential(models.Model):
    """The hash of the Tilt scanner's token (one row; scanner_auth.py)."""

    token_hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField(auto_now=True)


# -- storing readings ----------------------------------------------------------------------------


def store_readings(sensor: GravitySensor, readings: list[GravityReading]) -> tuple[int, int]:
    """Store unsaved readings of `sensor` in one transaction, then mark outliers around them.

    A reading whose ts is already stored (or earlier in the batch) is a duplicate, not an
    error, so a sender may always resend. Answers (stored, duplicates).
    """
    batch: dict[int, GravityReading] = {}
    for reading in readings:
        batch.setdefault(reading.ts, reading)
    if not batch:
        return 0, len(readings)
    with transaction.atomic():
        known = set(sensor.readings.filter(ts__in=list(batch)).values_list("ts", flat=True))
        new = [reading for ts, reading in sorted(batch.items()) if ts not in known]
        for reading in new:
            reading.sensor = sensor
            if reading.device_id is None:
                reading.device_id = sensor.device_id
        GravityReading.objects.bulk_create(new, ignore_conflicts=True)
        if new:
            refresh_outliers(sensor, since_ts=new[0].ts)
    return len(new), len(readings) - len(new)


def refresh_outliers(sensor: GravitySensor, since_ts: int | None = None) -> None:
    """Mark (and unmark) spikes with hygiene.outliers over the sensor's visible readings from
    `since_ts` on (all of them when None), judged against their neighbours on both sides.

    A reading a person typed in or corrected is never marked: a person vouched for it.
    """
    half = OUTLIER_WINDOW // 2
    visible = sensor.readings.filter(hidden=False).filter(
        Q(gravity__isnull=False) | Q(corrected_gravity__isnull=False)
    )
    fields = ("id", "ts", "gravity", "corrected_gravity", "manual", "outlier")
    if since_ts is None:
        rows = list(visible.order_by("ts").only(*fields))
        first_judged = 0
    else:
        # Enough earlier readings that every one judged again has its full window.
        before = list(visible.filter(ts__lt=since_ts).order_by("-ts").only(*fields)[: 2 * half])
        before.reverse()
        rows = before + list(visible.filter(ts__gte=since_ts).order_by("ts").only(*fields))
        first_judged = half if len(before) == 2 * half else 0
    if not rows:
        return
    marks = hygiene.outliers([row.shown_gravity for row in rows], window=OUTLIER_WINDOW)
    changed = []
    for row, mark in zip(rows[first_judged:], marks[first_judged:], strict=True):
        mark = mark and not row.manual and row.corrected_gravity is None
        if row.outlier != mark:
            row.outlier = mark
            changed.append(row)
    GravityReading.objects.bulk_update(changed, ["outlier"], batch_size=1000)

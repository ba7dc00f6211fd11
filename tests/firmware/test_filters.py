"""The second-order IIR sections and their cascade (brewpi-protocol §8.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fermentrack.brewpi.temperature import INVALID_TEMP
from fermentrack.firmware.filters import (
    SECTION_STEP_DELAY_S,
    CascadedFilter,
    FilterSection,
    to_precise,
)

FILTER_BS = range(7)
temperatures = st.integers(min_value=-32000, max_value=32000)


def samples_to_half_step(filt: FilterSection | CascadedFilter, step: int = 1000) -> int:
    """Seconds from a step at time 0 until the output first reaches half of it."""
    filt.init(0)
    for second in range(10_000):
        if filt.add(step) >= step // 2:
            return second
    raise AssertionError("never reached half the step")


@pytest.mark.parametrize("b", FILTER_BS)
def test_a_section_reaches_half_a_step_after_the_listed_delay(b):
    # The protocol's figures are rounded down from a continuous estimate; for the two slowest
    # settings the integer filter crosses 50 % in the second after the listed one.
    delay = samples_to_half_step(FilterSection(b))
    assert SECTION_STEP_DELAY_S[b] <= delay <= SECTION_STEP_DELAY_S[b] + (1 if b >= 5 else 0)


@pytest.mark.parametrize("b", FILTER_BS)
def test_the_cascade_takes_about_three_times_as_long_as_one_section(b):
    # Delays of sections in series add up; the 50 % point of the whole lands a little later.
    section = samples_to_half_step(FilterSection(b))
    cascade = samples_to_half_step(CascadedFilter(b))
    assert 3 * section <= cascade <= 3.5 * section


@pytest.mark.parametrize("b", FILTER_BS)
@pytest.mark.parametrize("start, target", [(0, 1000), (-14336, -12000), (3000, -20000)])
def test_dc_gain_is_exactly_one(b, start, target):
    section, cascade = FilterSection(b), CascadedFilter(b)
    section.init(start)
    cascade.init(start)
    for _ in range(40 * SECTION_STEP_DELAY_S[b] + 100):
        section.add(target)
        cascade.add(target)
    assert section.read_output() == target
    assert cascade.read_output() == target


@given(temperatures, st.integers(min_value=0, max_value=6))
def test_initialising_fills_the_history_so_the_output_starts_settled(temp, b):
    cascade = CascadedFilter(b)
    cascade.init(temp)
    assert cascade.read_output() == temp
    assert cascade.add(temp) == temp
    assert cascade.read_output_precise() == to_precise(temp)


@given(
    st.integers(min_value=0, max_value=6),
    temperatures,
    st.lists(temperatures, min_size=1, max_size=60),
)
def test_the_cascade_is_three_sections_in_series_bit_for_bit(b, start, readings):
    sections = [FilterSection(b) for _ in range(3)]
    for section in sections:
        section.init(start)
    cascade = CascadedFilter(b)
    cascade.init(start)
    for reading in readings:
        value = to_precise(reading)
        for section in sections:
            value = section.add_precise(value)
        assert cascade.add_precise(to_precise(reading)) == value
        assert cascade.detect_positive_peak() == sections[-1].detect_positive_peak()
        assert cascade.detect_negative_peak() == sections[-1].detect_negative_peak()


def test_a_positive_peak_is_reported_one_sample_after_the_maximum():
    section = FilterSection(0)
    section.init(0)
    outputs, peaks = [], []
    for reading in [1000] * 4 + [0] * 20:
        outputs.append(section.add(reading))
        peaks.append(section.detect_positive_peak())
    found = [i for i, peak in enumerate(peaks) if peak != INVALID_TEMP]
    assert len(found) == 1
    top = found[0] - 1
    assert peaks[found[0]] == outputs[top] == max(outputs)


def test_a_negative_peak_is_reported_one_sample_after_the_minimum():
    cascade = CascadedFilter(1)
    cascade.init(0)
    outputs, peaks = [], []
    for reading in [-2000] * 10 + [0] * 60:
        outputs.append(cascade.add(reading))
        peaks.append(cascade.detect_negative_peak())
    found = [i for i, peak in enumerate(peaks) if peak != INVALID_TEMP]
    assert len(found) == 1
    assert peaks[found[0]] == outputs[found[0] - 1] == min(outputs)


@pytest.mark.parametrize("b", FILTER_BS)
def test_a_monotonic_approach_shows_no_peak_once_it_moves(b):
    # Each section is critically damped ((2^-b)² = 16·2^-a), so a step never overshoots.
    # (The slow settings hold the output exactly at the start for a few samples; leaving that
    # flat stretch is a "peak", see below, so the check starts once the output moves.)
    cascade = CascadedFilter(b)
    cascade.init(0)
    while cascade.add(2000) <= 0:
        pass
    for _ in range(20 * SECTION_STEP_DELAY_S[b]):
        cascade.add(2000)
        assert cascade.detect_positive_peak() == INVALID_TEMP
        assert cascade.detect_negative_peak() == INVALID_TEMP
    assert cascade.read_output() == 2000


def test_leaving_a_flat_stretch_counts_as_a_peak_at_the_flat_value():
    # out[n] > out[n-1] <= out[n-2]: the "or equal" makes the last flat sample a minimum.
    cascade = CascadedFilter(2)
    cascade.init(-100)
    cascade.add(2000)
    assert cascade.detect_negative_peak() == -100
    assert cascade.detect_positive_peak() == INVALID_TEMP


def test_changing_the_coefficient_keeps_the_history():
    cascade = CascadedFilter(4)
    cascade.init(500)
    cascade.set_coefficients(1)
    assert cascade.b == 1
    assert cascade.read_output() == 500
    assert cascade.add(500) == 500


@pytest.mark.parametrize("b", [-1, 7, 2.0, "3"])
def test_a_filter_setting_outside_0_to_6_is_refused(b):
    with pytest.raises(ValueError, match="from 0 to 6"):
        CascadedFilter(b)
    with pytest.raises(ValueError, match="from 0 to 6"):
        FilterSection(b)


def test_shifts_round_toward_minus_infinity_as_the_firmware_does():
    # A small negative input gives -4096 (precise) after the first shift; back to 1/512 °C
    # that is -1, where a division truncating toward zero would give 0.
    section = FilterSection(0)
    section.init(0)
    assert section.add(-1) == -1
    assert section.read_output_precise() == -4096

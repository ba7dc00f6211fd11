"""Gravity and temperature units: SG ↔ °Plato, °F ↔ °C, and correcting SG for temperature.

One Plato pair throughout (gravity-and-push.md §4.5): Fermentrack's original mixed two formulas
that are not each other's inverse, so a value converted there and back drifted.
"""

from __future__ import annotations

# SG = 1 + P / (PLATO_A − PLATO_B·P), the form used for sugar-solution calibration targets.
PLATO_A = 258.6
PLATO_B = 227.1 / 258.2


def plato_to_sg(plato: float) -> float:
    """Specific gravity of a wort of `plato` °P: SG = 1 + P / (258.6 − 227.1·P / 258.2)."""
    return 1.0 + plato / (PLATO_A - PLATO_B * plato)


def sg_to_plato(sg: float) -> float:
    """°Plato of a wort of specific gravity `sg`: the algebraic inverse of plato_to_sg.

    With S = SG − 1: S·(258.6 − b·P) = P, so P = 258.6·S / (1 + b·S), b = 227.1 / 258.2.
    """
    excess = sg - 1.0
    return PLATO_A * excess / (1.0 + PLATO_B * excess)


def f_to_c(temp_f: float) -> float:
    return (temp_f - 32.0) * 5.0 / 9.0


def c_to_f(temp_c: float) -> float:
    return temp_c * 9.0 / 5.0 + 32.0


def _temperature_factor(temp_f: float) -> float:
    """§4.4's f(T), T in °F: it grows with T, as warm wort reads light on a hydrometer."""
    t = temp_f
    return 1.00130346 - 1.34722124e-4 * t + 2.04052596e-6 * t**2 - 2.32820948e-9 * t**3


def temperature_corrected_sg(sg: float, temp_f: float, reference_f: float = 60.0) -> float:
    """What a hydrometer reading `sg` taken at `temp_f` would read at `reference_f` (§4.4):
    SG · f(T) / f(reference)."""
    return sg * _temperature_factor(temp_f) / _temperature_factor(reference_f)

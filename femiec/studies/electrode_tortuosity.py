"""The electrode tortuosity factor of a blocking-cell spectrum (Nguyen et al. 2020; TauFactor).

A porous electrode whose pores hold an electrolyte of conductivity kappa [S/m] and whose walls are
blocking (a double layer only) behaves at low and intermediate frequency like de Levie's transmission
line with a blocking end,

    Z(omega) = sqrt(R_ion / (i omega C)) coth(sqrt(i omega R_ion C)),    Z -> R_ion/3 + 1/(i omega C),

with R_ion [Ohm] the ionic resistance of the electrode and C [F] its double-layer capacitance. For an
electrode of thickness L [m], cross-section A [m^2] and porosity eps made of straight pores, R_ion =
L / (kappa eps A); the electrode tortuosity factor is the ratio of the fitted R_ion to that value:

    tau_e = R_ion kappa eps A / L.

Source: T.-T. Nguyen, A. Demortière, B. Fleutot, B. Delobel, C. Delacourt & S. J. Cooper, "The electrode
tortuosity factor: why the conventional tortuosity factor is not well suited for quantifying transport in
porous Li-ion battery electrodes and what to use instead", npj Comput. Mater. 6 (2020) 123. TauFactor's
``ImpedanceSolver``/``ElectrodeSolver`` (tldr-group/taufactor) report the same ratio as Re Z of the image
over Re Z of the homogeneous line with resistance L/(kappa eps A) and the same capacitance, at a
frequency a few times below the line's knee, where both real parts are close to R/3. Here R_ion and C are
fitted to the whole low-frequency part of the spectrum instead of read at one frequency.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.analytic.impedance import transmission_line
from femiec.errors import InputError


def _reflective_line(omega, resistance, capacitance):
    """The blocking line of total resistance R [Ohm] and capacitance C [F]: transmission_line with r = R,
    z = 1/(i omega C) per unit length over a unit length, sqrt(R/(i omega C)) coth(sqrt(i omega R C))."""
    return transmission_line(resistance, 1 / (1j * omega * capacitance), 1.0)


@dataclass
class ElectrodeTortuosity:
    """Result of :func:`electrode_tortuosity`: tau_e [-], the fitted ionic resistance R_ion [Ohm] and
    capacitance C [F], the straight-pore resistance L/(kappa eps A) [Ohm], the largest relative misfit
    |Z_fit/Z - 1| over the fitted points and how many points were fitted."""

    tortuosity: float
    ionic_resistance: float
    capacitance: float
    ideal_resistance: float
    misfit: float
    points: int

    def as_dict(self) -> dict:
        return {"electrode_tortuosity": self.tortuosity, "ionic_resistance [Ohm]": self.ionic_resistance,
                "capacitance [F]": self.capacitance, "straight_pore_resistance [Ohm]": self.ideal_resistance,
                "fit_misfit": self.misfit, "fit_points": self.points}


def electrode_tortuosity(spectrum, conductivity: float, porosity: float, thickness: float, area: float,
                         max_omega_rc: float = 10.0) -> ElectrodeTortuosity:
    """Fit the blocking transmission line to the low-frequency part of ``spectrum`` (a
    femiec.studies.impedance.Spectrum in Ohm) and return tau_e = R_ion kappa eps A / L (module docstring).

    conductivity kappa [S/m], porosity eps [-], thickness L [m], area A [m^2] of the electrode. The points
    fitted are those with omega R C <= ``max_omega_rc`` (R, C first estimated from the lowest frequency:
    R = 3 Re Z, C = -1/(omega Im Z)); at least two are needed. The fit minimises the relative complex
    misfit Z_line/Z - 1 in log R, log C (scipy least squares).
    """
    from scipy.optimize import least_squares

    for key, value in (("conductivity", conductivity), ("porosity", porosity), ("thickness", thickness),
                       ("area", area), ("max_omega_rc", max_omega_rc)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(key, value, "a positive number (SI units)")
    omega = 2 * np.pi * np.asarray(spectrum.frequency, dtype=float)
    Z = np.asarray(spectrum.impedance, dtype=complex)
    low = np.argmin(omega)
    if not (Z[low].real > 0 and Z[low].imag < 0):
        raise InputError("spectrum", f"Z = {Z[low]:.6g} Ohm at {omega[low] / (2 * np.pi):.6g} Hz",
                         "a blocking (capacitive) spectrum: Re Z > 0 and Im Z < 0 at the lowest frequency")
    R0, C0 = 3 * Z[low].real, -1 / (omega[low] * Z[low].imag)
    chosen = omega * R0 * C0 <= max_omega_rc
    if np.count_nonzero(chosen) < 2:
        raise InputError("spectrum.frequency", f"{np.count_nonzero(chosen)} point(s) with omega R C <= "
                         f"{max_omega_rc:g}", "at least two frequencies below the transmission line's knee")
    w, data = omega[chosen], Z[chosen]

    def misfit(p):
        ratio = _reflective_line(w, np.exp(p[0]), np.exp(p[1])) / data - 1
        return np.concatenate([ratio.real, ratio.imag])

    fit = least_squares(misfit, [np.log(R0), np.log(C0)], xtol=1e-14, ftol=1e-14, gtol=1e-14)
    R, C = np.exp(fit.x)
    ideal = thickness / (conductivity * porosity * area)
    worst = float(np.max(np.abs(_reflective_line(w, R, C) / data - 1)))
    return ElectrodeTortuosity(float(R / ideal), float(R), float(C), float(ideal), worst, int(len(w)))

"""Closed-form small-signal impedances (SI units): the oracles of the impedance spectroscopy checks.

Convention: time dependence exp(i omega t), so d/dt -> i omega and a capacitor is 1/(i omega C); a
capacitive impedance has Im Z < 0 (Nyquist plots show -Im Z). Every function takes the angular frequency
omega [rad/s] (or an impedance already evaluated at it) as a numpy array and returns a complex array of
the broadcast shape. Z is the voltage across the element over the current through it; "area-specific"
values are in Ohm m^2.

Functions and formulas (with s = sqrt(i omega tau) etc. on the principal branch, Re >= 0):

- interface_impedance:  z = 1 / (i omega C + 1/Z_F)  [Ohm m^2]  (double layer parallel to a faradaic path).
- warburg_finite:       transmissive R tanh(s)/s, reflective R coth(s)/s, s = sqrt(i omega tau)  [Ohm].
- transmission_line:    Z = sqrt(r z) coth(L sqrt(r/z))  [Ohm]  (de Levie; one resistive rail, blocking end).
- de_levie_pore:        the line with r = 1/(kappa A), z = z_interface / P; limits R/3 + 1/(i omega C_total)
                        (omega -> 0, blocking walls) and sqrt(r z) (omega -> inf, 45 degrees).
- mixed_conduction_line: Gomadam configurations I, II, III of a two-rail line (rho1, rho2, z_f, d),
                        beta = sqrt((rho1 + rho2)/z_f), e.g. I: Z = (rho1^2 + rho2^2)/(rho1 + rho2) coth(d beta)/beta
                        + 2 rho1 rho2/(rho1 + rho2)/(beta sinh(d beta)) + d rho1 rho2/(rho1 + rho2)  [Ohm m^2].
- charge_transfer_resistance: R_ct = R T / (n F i0)  [Ohm m^2].
- spherical_diffusion_impedance: Z_D = (-dU/dc) R/(n F D) tanh(s)/(s - tanh(s)), s = sqrt(i omega R^2/D)
                        [Ohm m^2]; -> (-dU/dc) R/(5 n F D) + 1/(i omega C_chem), C_chem = n F (R/3)/(-dU/dc).
- randles_particle:     Z = R_s + 1/(i omega C_dl + 1/(R_ct + Z_D))  [Ohm m^2];
  randles_sphere:       the same for a sphere in a highly conducting electrolyte, divided by 4 pi R^2 [Ohm].
- blocking_electrolyte_impedance: Z = g/(eps D k^2) + 2 tanh(k g/2)/(i omega eps lambda_D^2 k^3)
                        (+ 2/(i omega C_S)), k = sqrt(1/lambda_D^2 + i omega/D)  [Ohm m^2]; for lambda_D << g
                        a bulk resistor g lambda_D^2/(eps D) in series with eps/(2 lambda_D), RC time
                        lambda_D (g/2)/D.

Sources:
- R. de Levie, Electrochim. Acta 8 (1963) 751 (porous electrode as a transmission line); J. Bisquert,
  Phys. Chem. Chem. Phys. 2 (2000) 4185 (boundaries of the line: reflective/transmissive ends);
  A. Lasia, *Electrochemical Impedance Spectroscopy and its Applications*, Springer (2014), ch. 4
  (finite-length Warburg) and ch. 9 (porous electrodes).
- Two-rail (mixed-conduction) line: G. Paasch, K. Micka & P. Gersdorf, Electrochim. Acta 38 (1993) 2653;
  P. M. Gomadam, J. W. Weidner, T. A. Zawodzinski & A. P. Saab, J. Electrochem. Soc. 150 (2003) E371
  (configurations I, II, III; here defined by their boundary conditions, see mixed_conduction_line).
- Spherical finite-space diffusion: T. Jacobsen & K. West, Electrochim. Acta 40 (1995) 255; particle
  impedance: J. E. B. Randles, Discuss. Faraday Soc. 1 (1947) 11; M. D. Levi & D. Aurbach, J. Phys.
  Chem. B 101 (1997) 4630; J. P. Meyers, M. Doyle, R. M. Darling & J. Newman, J. Electrochem. Soc. 147
  (2000) 2930.
- Linearised Poisson–Nernst–Planck between blocking electrodes: J. R. Macdonald, Phys. Rev. 92 (1953) 4;
  M. Z. Bazant, K. Thornton & A. Ajdari, Phys. Rev. E 70 (2004) 021506 (BTA04), eq. (36) for the RC time
  tau_c = lambda_D L / D of a gap 2L.
The closed forms were derived here from the stated 1D equations; tests/unit/test_analytic_impedance.py
checks each against a finite-difference solution of those equations.
"""
from __future__ import annotations

import numpy as np

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError


def _positive(key: str, value, allow_infinite: bool = False) -> np.ndarray:
    """``value`` as a float array, all entries > 0 (and finite unless ``allow_infinite``)."""
    array = np.asarray(value, dtype=float)
    finite = np.isfinite(array) | (allow_infinite & (array == np.inf))
    if array.size == 0 or not np.all(finite & (array > 0)):
        raise InputError(key, value, "a positive number" + (" (inf allowed)" if allow_infinite else ""))
    return array


def _passive(key: str, value) -> np.ndarray:
    """``value`` as a complex array of nonzero impedances with Re >= 0 (a passive element)."""
    array = np.asarray(value, dtype=complex)
    if array.size == 0 or not np.all(np.isfinite(array) & (array.real >= 0) & (array != 0)):
        raise InputError(key, value, "a nonzero passive impedance (finite, Re >= 0)")
    return array


def _coth(x):
    return 1 / np.tanh(x)


def _csch(x):
    """1/sinh(x) for Re x >= 0 without overflow: -2 exp(-x) / expm1(-2 x)."""
    return -2 * np.exp(-x) / np.expm1(-2 * x)


def _s_coth_s_minus_one(s2):
    """s coth(s) - 1 of s = sqrt(s2) (Re s > 0), given s2 = s^2; for |s| < 1 by Lambert's continued
    fraction (no cancellation; depth 11, truncation below 1e-20 relative)."""
    s = np.sqrt(s2)
    tail = np.full_like(s2, 25.0)
    for odd in range(23, 1, -2):
        tail = odd + s2 / tail
    with np.errstate(invalid="ignore", over="ignore"):
        direct = s / np.tanh(s) - 1
    return np.where(np.abs(s) < 1, s2 / tail, direct)


def interface_impedance(omega, capacitance, faradaic_impedance=np.inf):
    """Double layer in parallel with a faradaic path: z = 1 / (i omega C + 1/Z_F).

    omega [rad/s], capacitance C [F/m^2], faradaic_impedance Z_F [Ohm m^2] (a charge-transfer resistance,
    or R_ct + Z_D; inf: an ideally blocking interface). Returns z [Ohm m^2] (area-specific). Divide by the
    wetted perimeter [m] for the impedance times length of a pore wall, by the specific interface area
    [1/m] for the impedance times volume of a homogenised electrode.
    """
    omega = _positive("omega", omega)
    capacitance = _positive("capacitance", capacitance)
    admittance = 1j * omega * capacitance
    faradaic = np.asarray(faradaic_impedance)
    if np.all(np.isinf(faradaic)):
        return 1 / admittance
    return 1 / (admittance + 1 / _passive("faradaic_impedance", faradaic))


def warburg_finite(omega, resistance, time_constant, kind="transmissive"):
    """Finite-length (bounded) Warburg impedance [Ohm], s = sqrt(i omega tau):

    transmissive (fixed concentration at the far end, "short"):  Z = R tanh(s) / s,
    reflective (blocking far end, "open"):                       Z = R coth(s) / s.

    resistance R [Ohm] (or Ohm m^2: Z has its unit), time_constant tau = L^2/D [s]. Limits: omega -> 0,
    transmissive R, reflective R/3 + R/(i omega tau) (a capacitor tau/R); omega -> inf, both
    R/sqrt(i omega tau) (semi-infinite Warburg, 45 degrees). The reflective form is the de Levie line of a
    capacitive pore with R = r L, tau = r c L^2. Sources: Lasia (2014) ch. 4; Bisquert (2000).
    """
    omega = _positive("omega", omega)
    resistance = _positive("resistance", resistance)
    time_constant = _positive("time_constant", time_constant)
    s = np.sqrt(1j * omega * time_constant)
    if kind == "transmissive":
        return resistance * np.tanh(s) / s
    if kind == "reflective":
        return resistance * _coth(s) / s
    raise InputError("kind", kind, "'transmissive' or 'reflective'")


def transmission_line(ionic_resistance, interface_impedance, length):
    """Finite de Levie/Bisquert line, blocking at the far end: Z = sqrt(r z) coth(L sqrt(r/z)) [Ohm].

    One resistive rail (ionic_resistance r [Ohm/m]), an ideal second rail (zero resistance), the rails
    joined by the distributed interface_impedance z [Ohm m] (impedance times length, complex, evaluated at
    the frequencies of interest), current entering the resistive rail at x = 0 and none passing its end
    x = L (length [m]). From phi' = -r i, i' = -phi/z: phi'' = (r/z) phi, i(0) = I, i(L) = 0.
    Sources: de Levie (1963); Bisquert (2000), the reflective line.
    """
    r = _positive("ionic_resistance", ionic_resistance)
    z = _passive("interface_impedance", interface_impedance)
    length = _positive("length", length)
    return np.sqrt(r * z) * _coth(length * np.sqrt(r / z))


def de_levie_pore(omega, conductivity, area, perimeter, length, capacitance, charge_transfer_resistance=np.inf):
    """Impedance [Ohm] of one straight pore (de Levie) in an electronically ideal solid, open at x = 0,
    closed at x = L.

    conductivity kappa [S/m] of the electrolyte filling the pore, cross-section area A [m^2], wetted
    perimeter P [m], length L [m], wall double-layer capacitance C_dl [F/m^2], optional
    charge_transfer_resistance R_ct [Ohm m^2] in parallel (inf: blocking walls). The line of
    :func:`transmission_line` with r = 1/(kappa A) [Ohm/m] and z = 1/(i omega C_dl P + P/R_ct) [Ohm m]:

        Z = sqrt(r z) coth(L sqrt(r/z)).

    Limits (blocking walls): omega -> 0, Z -> R/3 + 1/(i omega C_total) with R = L/(kappa A) and
    C_total = C_dl P L; omega -> inf, Z -> sqrt(r z) = (1 - i) sqrt(r / (2 omega C_dl P)) (a 45-degree line).
    Source: de Levie, Electrochim. Acta 8 (1963) 751; Lasia (2014) ch. 9.
    """
    conductivity = _positive("conductivity", conductivity)
    area = _positive("area", area)
    perimeter = _positive("perimeter", perimeter)
    wall = interface_impedance(omega, capacitance, _positive("charge_transfer_resistance",
                                                            charge_transfer_resistance, allow_infinite=True))
    return transmission_line(1 / (conductivity * area), wall / perimeter, length)


def mixed_conduction_line(ionic_resistivity, electronic_resistivity, interface_impedance, thickness,
                          configuration="I"):
    """Two-rail transmission line of a homogenised electrode 0 <= x <= d [Ohm m^2].

    ionic_resistivity rho1 and electronic_resistivity rho2 [Ohm m] (effective, per unit cross-section:
    the resistance of a 1 m^2 slab per metre of thickness), interface_impedance z_f [Ohm m^3] (an
    area-specific interface impedance divided by the specific interface area a [1/m]; complex),
    thickness d [m]. The currents i1 (ions), i2 (electrons) [A/m^2] and potentials phi1, phi2 obey

        phi1' = -rho1 i1,  phi2' = -rho2 i2,  i1' = -i2' = (phi2 - phi1) / z_f,

    so eta = phi2 - phi1 solves eta'' = beta^2 eta with beta = sqrt((rho1 + rho2) / z_f) [1/m].
    The configurations (Gomadam et al. 2003, defined here by their boundary conditions; I is the
    electrode of a cell, II and III the electrode between two electronic or two ionic contacts):

    I   ions enter at x = 0 (separator), electrons leave at x = d (current collector):
        i1(0) = I, i2(0) = 0, i1(d) = 0, i2(d) = I;  Z = (phi1(0) - phi2(d)) / I,
        Z = (rho1^2 + rho2^2)/(rho1 + rho2) coth(d beta)/beta + 2 rho1 rho2/(rho1 + rho2) / (beta sinh(d beta))
            + d rho1 rho2/(rho1 + rho2).
    II  electrons enter at x = 0 and leave at x = d, ions blocked at both faces:
        Z = (phi2(0) - phi2(d)) / I = d rho1 rho2/(rho1 + rho2) + 2 rho2^2/(rho1 + rho2) tanh(d beta/2)/beta.
    III ions enter at x = 0 and leave at x = d, electrons blocked at both faces:
        Z = (phi1(0) - phi1(d)) / I = d rho1 rho2/(rho1 + rho2) + 2 rho1^2/(rho1 + rho2) tanh(d beta/2)/beta.

    Limits: z_f -> 0 (beta -> inf), every configuration -> d rho1 rho2/(rho1 + rho2) (the rails in
    parallel); z_f -> inf (beta -> 0), I -> z_f/d + d (rho1 + rho2)/3, II -> d rho2, III -> d rho1.
    rho2 -> 0 turns I into :func:`transmission_line` with r = rho1, z = z_f, L = d.
    Sources: Paasch, Micka & Gersdorf (1993); Gomadam, Weidner, Zawodzinski & Saab, J. Electrochem. Soc.
    150 (2003) E371; the closed forms derived here from the equations above.
    """
    rho1 = _positive("ionic_resistivity", ionic_resistivity)
    rho2 = _positive("electronic_resistivity", electronic_resistivity)
    z_f = _passive("interface_impedance", interface_impedance)
    d = _positive("thickness", thickness)
    beta = np.sqrt((rho1 + rho2) / z_f)
    total = rho1 + rho2
    parallel = d * rho1 * rho2 / total
    if configuration == "I":
        return ((rho1 ** 2 + rho2 ** 2) * _coth(d * beta) + 2 * rho1 * rho2 * _csch(d * beta)) / (total * beta) \
            + parallel
    if configuration == "II":
        return parallel + 2 * rho2 ** 2 * np.tanh(d * beta / 2) / (total * beta)
    if configuration == "III":
        return parallel + 2 * rho1 ** 2 * np.tanh(d * beta / 2) / (total * beta)
    raise InputError("configuration", configuration, "'I', 'II' or 'III'")


def charge_transfer_resistance(exchange_current_density, temperature, electrons=1):
    """R_ct = R T / (n F i0) [Ohm m^2]: the slope d eta/d i at i = 0 of Butler–Volmer (any symmetric or
    asymmetric alpha_a + alpha_c = 1); exchange_current_density i0 [A/m^2], temperature T [K].
    Source: Bard & Faulkner, *Electrochemical Methods*, 2nd ed. (2001), section 3.4."""
    i0 = _positive("exchange_current_density", exchange_current_density)
    temperature = _positive("temperature", temperature)
    electrons = _positive("electrons", electrons)
    return GAS_CONSTANT * temperature / (electrons * FARADAY * i0)


def spherical_diffusion_impedance(omega, radius, diffusivity, ocv_slope, electrons=1):
    """Finite-space (reflective centre) solid diffusion impedance of a sphere, per surface area [Ohm m^2].

    Linearised diffusion dc/dt = D (1/r^2) (r^2 c')' in 0 < r < R, c'(0) = 0, inserted flux
    D c'(R) = -i / (n F) for an anodic (deinsertion) current density i [A/m^2]; Z_D = dU/dc c(R) / i:

        Z_D = (-dU/dc) R / (n F D) * tanh(s) / (s - tanh(s)),   s = sqrt(i omega R^2 / D)

    (equivalently (dU/dc) R/(n F D) tanh(s)/(tanh(s) - s), or (-dU/dc) R/(n F D) / (s coth(s) - 1); the
    last is evaluated, for |s| < 1 through Lambert's continued fraction s coth(s) - 1 =
    s^2/(3 + s^2/(5 + s^2/(7 + ...))), which keeps full precision at low frequency). With dU/dc < 0,
    Re Z_D > 0 for either direction of the DC current (Z is a ratio of perturbations).
    radius R [m], diffusivity D [m^2/s], ocv_slope dU/dc [V m^3/mol] (< 0: the open-circuit voltage falls
    as the particle fills; for U of the stoichiometry theta = c/c_max pass dU/dtheta / c_max), electrons n.
    Limits: omega -> 0,
    Z_D -> (-dU/dc) R/(5 n F D) + 1/(i omega C_chem) with the chemical capacitance per area
    C_chem = n F (R/3) / (-dU/dc) [F/m^2] (R/3 = volume/area); omega -> inf, Z_D -> (-dU/dc)/(n F sqrt(i omega D))
    (semi-infinite Warburg). Characteristic frequency D/R^2. Source: Jacobsen & West, Electrochim. Acta 40
    (1995) 255.
    """
    omega = _positive("omega", omega)
    radius = _positive("radius", radius)
    diffusivity = _positive("diffusivity", diffusivity)
    electrons = _positive("electrons", electrons)
    slope = np.asarray(ocv_slope, dtype=float)
    if slope.size == 0 or not np.all(np.isfinite(slope) & (slope < 0)):
        raise InputError("ocv_slope", ocv_slope, "dU/dc < 0 in V m^3/mol (the voltage falls as the particle fills)")
    s2 = 1j * omega * radius ** 2 / diffusivity
    return -slope * radius / (electrons * FARADAY * diffusivity) / _s_coth_s_minus_one(s2)


def randles_particle(omega, solution_resistance, double_layer_capacitance, charge_transfer_resistance,
                     diffusion_impedance):
    """Randles circuit per area [Ohm m^2]: Z = R_s + 1/(i omega C_dl + 1/(R_ct + Z_D)).

    solution_resistance R_s [Ohm m^2] (>= 0), double_layer_capacitance C_dl [F/m^2],
    charge_transfer_resistance R_ct [Ohm m^2], diffusion_impedance Z_D [Ohm m^2] (complex, at omega,
    e.g. :func:`spherical_diffusion_impedance`). Source: Randles (1947); Meyers et al. (2000).
    """
    series = np.asarray(solution_resistance, dtype=float)
    if series.size == 0 or not np.all(np.isfinite(series) & (series >= 0)):
        raise InputError("solution_resistance", solution_resistance, "a resistance >= 0 in Ohm m^2")
    r_ct = _positive("charge_transfer_resistance", charge_transfer_resistance)
    faradaic = r_ct + _passive("diffusion_impedance", diffusion_impedance)
    return series + interface_impedance(omega, double_layer_capacitance, faradaic)


def randles_sphere(omega, radius, diffusivity, ocv_slope, exchange_current_density, double_layer_capacitance,
                   temperature, electrons=1):
    """Impedance [Ohm] of one spherical insertion particle of radius R [m] in a highly conducting
    electrolyte (R_s = 0), against the electrolyte potential:

        Z = 1/(i omega C_dl + 1/(R_ct + Z_D)) / (4 pi R^2)

    with R_ct = R T/(n F i0) (:func:`charge_transfer_resistance`) and Z_D of
    :func:`spherical_diffusion_impedance` (same arguments and units). Linearised Butler–Volmer about an
    equilibrium state: i_F = (delta V - dU/dc delta c(R)) / R_ct, plus the double-layer current
    i omega C_dl delta V. Sources: Jacobsen & West (1995); Meyers et al. (2000).
    """
    z_d = spherical_diffusion_impedance(omega, radius, diffusivity, ocv_slope, electrons)
    r_ct = charge_transfer_resistance(exchange_current_density, temperature, electrons)
    return randles_particle(omega, 0.0, double_layer_capacitance, r_ct, z_d) / (4 * np.pi * np.asarray(radius) ** 2)


def blocking_electrolyte_impedance(omega, diffusivity, debye_length, gap, permittivity, area=None,
                                   stern_capacitance=None):
    """Linearised Poisson–Nernst–Planck impedance of a symmetric z:z electrolyte (both ions of diffusivity
    D) between two parallel blocking electrodes a distance g apart [Ohm m^2, or Ohm if ``area`` is given].

    With the charge density rho = z F (c+ - c-) and the potential phi, about the uniform state:
    i omega rho = D (rho'' - rho/lambda_D^2), eps phi'' = -rho, no ionic flux at the walls, phi = +-V/2
    there (or through a Stern layer). The total (conduction + displacement) current J is uniform and

        Z = V/J = g / (eps D k^2) + 2 tanh(k g/2) / (i omega eps lambda_D^2 k^3) + 2/(i omega C_S),
        k = sqrt(1/lambda_D^2 + i omega/D) [1/m].

    The first term is the bulk resistor R_b = g lambda_D^2/(eps D) in parallel with the geometric
    capacitance eps/g (eps D k^2 = eps D/lambda_D^2 + i omega eps); the second the two diffuse layers.
    diffusivity D [m^2/s], debye_length lambda_D [m] (:func:`femiec.analytic.electrochemistry.debye_length`),
    gap g [m], permittivity eps [F/m], area [m^2] (None: area-specific), stern_capacitance C_S [F/m^2]
    (None: no Stern layer) in series at each electrode. Limits: omega -> 0, a capacitor
    eps/(2 lambda_D tanh(g/(2 lambda_D))) per area; lambda_D/g -> 0 at omega ~ D/(lambda_D g), the
    circuit R_b + 2 lambda_D/(i omega eps) (two diffuse-layer capacitances eps/lambda_D in series) with the
    RC time R_b eps/(2 lambda_D) = lambda_D (g/2)/D (BTA04 eq. (36), gap 2L = g), relative corrections
    O((lambda_D/g)(1 + omega tau_c)); omega -> inf, the geometric capacitor eps/g. Sources: Macdonald,
    Phys. Rev. 92 (1953) 4; Bazant, Thornton & Ajdari, Phys. Rev. E 70 (2004) 021506; derived here for
    equal diffusivities.
    """
    omega = _positive("omega", omega)
    diffusivity = _positive("diffusivity", diffusivity)
    debye = _positive("debye_length", debye_length)
    gap = _positive("gap", gap)
    permittivity = _positive("permittivity", permittivity)
    k2 = 1 / debye ** 2 + 1j * omega / diffusivity
    k = np.sqrt(k2)
    bulk = gap / (permittivity * diffusivity * k2)
    z = bulk + 2 * np.tanh(k * gap / 2) / (1j * omega * permittivity * debye ** 2 * k * k2)
    if stern_capacitance is not None:
        z = z + 2 / (1j * omega * _positive("stern_capacitance", stern_capacitance))
    return z if area is None else z / _positive("area", area)

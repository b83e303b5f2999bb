"""Relations between the partial conductivities of a mixed ionic-electronic conductor (SI units).

- Haven ratio:            H_R = D* / D_sigma, with D* the tracer diffusivity [m^2/s] and
                          D_sigma = sigma R T / (z^2 F^2 c) the conductivity diffusivity (Nernst-Einstein,
                          :func:`femiec.materials.temperature_dependence.diffusivity_from_conductivity`)
- Ambipolar conductivity: sigma_amb = sigma_i sigma_e / (sigma_i + sigma_e) [S/m] (chemical diffusion
                          in a MIEC: D_chem = sigma_amb / (z^2 F^2) dmu/dc)
- Transference numbers:   t_k = sigma_k / sum_j sigma_j

Conductivities may be numbers or 3x3 tensors; the ambipolar tensor is then (sigma_i^-1 + sigma_e^-1)^-1
(the series combination, symmetric positive definite).

References: J. Maier, *Physical Chemistry of Ionic Materials*, Wiley (2004), sections 6.3-6.7;
G. E. Murch, Solid State Ionics 7 (1982) 177-198 (Haven ratio).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from femiec.errors import InputError
from femiec.materials.tensors import check_tensor


def _conductivity(name: str, value) -> np.ndarray:
    """A positive finite number, or a symmetric positive-definite 3x3 tensor."""
    if np.ndim(value) == 2:
        return check_tensor(value, name)
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise InputError(name, value, "a positive finite number [S/m] or a positive-definite 3x3 tensor")
    return np.asarray(float(value))


def haven_ratio(tracer_diffusivity: float, conductivity: float, charge: int, concentration: float,
                temperature: float) -> float:
    """H_R = D* / D_sigma (dimensionless; 1 for uncorrelated hops, typically 0.3-0.7 in ion conductors).

    ``conductivity`` is the partial conductivity [S/m] of the carrier of charge number ``charge`` at
    ``concentration`` [mol/m^3] and ``temperature`` [K]; ``tracer_diffusivity`` D* [m^2/s].
    """
    from femiec.materials.temperature_dependence import diffusivity_from_conductivity

    if isinstance(tracer_diffusivity, bool) or not np.isfinite(tracer_diffusivity) or tracer_diffusivity <= 0:
        raise InputError("tracer_diffusivity", tracer_diffusivity, "a positive diffusivity [m^2/s]")
    sigma = float(_conductivity("conductivity", conductivity))
    if not np.isfinite(temperature) or temperature <= 0:
        raise InputError("temperature", temperature, "a temperature > 0 K")
    return float(tracer_diffusivity / diffusivity_from_conductivity(sigma, charge, concentration, temperature))


def ambipolar_conductivity(sigma_ionic, sigma_electronic):
    """sigma_i sigma_e / (sigma_i + sigma_e) [S/m]; for tensors (sigma_i^-1 + sigma_e^-1)^-1."""
    si = _conductivity("sigma_ionic", sigma_ionic)
    se = _conductivity("sigma_electronic", sigma_electronic)
    if si.ndim == 0 and se.ndim == 0:
        return float(si * se / (si + se))
    si, se = (s * np.eye(3) if s.ndim == 0 else s for s in (si, se))
    amb = np.linalg.inv(np.linalg.inv(si) + np.linalg.inv(se))
    return 0.5 * (amb + amb.T)


def transference_numbers(conductivities: Mapping[str, float]) -> dict[str, float]:
    """t_k = sigma_k / sum_j sigma_j for each carrier k (scalar partial conductivities); sum t_k = 1."""
    if not conductivities:
        raise InputError("conductivities", {}, "at least one carrier conductivity [S/m]")
    sigmas = {k: float(_conductivity(f"conductivities.{k}", v)) for k, v in conductivities.items()}
    total = sum(sigmas.values())
    return {k: v / total for k, v in sigmas.items()}

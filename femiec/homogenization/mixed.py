"""Two carriers in a composite: effective ionic, electronic and ambipolar conductivities.

Each phase of a mixed ionic-electronic composite (e.g. an oxide-ion conductor + an electronic conductor,
or two mixed conductors) has an ionic and an electronic conductivity (0 = blocks that carrier). Without
interfacial resistance the two carriers homogenize independently:

    sigma_ion_eff = homogenization of the ionic conductivities,
    sigma_el_eff  = homogenization of the electronic conductivities,

and the macroscopic ambipolar (chemical-diffusion) conductivity is their series combination,

    sigma_amb = sigma_ion_eff (sigma_ion_eff + sigma_el_eff)^-1 sigma_el_eff   (tensors; scalars:
    sigma_amb = sigma_ion sigma_el / (sigma_ion + sigma_el)),

which is 0 along an axis on which either carrier has no percolating path. A ``contact_resistance``
option (fv) applies to both carriers; call homogenize per carrier for different interface resistances.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from femiec.errors import InputError
from femiec.homogenization.api import homogenize
from femiec.homogenization.results import HomogenizationResult


@dataclass
class MixedConductionResult:
    """Ionic and electronic homogenization results and the ambipolar conductivity per axis (and tensor)."""

    ionic: HomogenizationResult
    electronic: HomogenizationResult
    ambipolar: dict[str, float]
    ambipolar_tensor: np.ndarray | None

    def to_json(self) -> dict:
        return {"ionic": self.ionic.to_json(), "electronic": self.electronic.to_json(),
                "ambipolar": self.ambipolar,
                "ambipolar_tensor": None if self.ambipolar_tensor is None else self.ambipolar_tensor.tolist()}


def ambipolar(ionic, electronic):
    """sigma_i (sigma_i + sigma_e)^-1 sigma_e for numbers or 3x3 tensors (0 if either is 0 / singular)."""
    ionic, electronic = np.asarray(ionic, dtype=float), np.asarray(electronic, dtype=float)
    if ionic.ndim == 0:
        total = ionic + electronic
        return float(ionic * electronic / total) if ionic > 0 and electronic > 0 else 0.0
    return ionic @ np.linalg.pinv(ionic + electronic) @ electronic


def mixed_conduction(image: np.ndarray, ionic: Mapping[int, object], electronic: Mapping[int, object],
                     axes="all", method: str = "fv", **options) -> MixedConductionResult:
    """Effective ionic, electronic and ambipolar conductivities of a segmented image.

    Args:
        image: segmented image indexed [ix, iy, iz].
        ionic, electronic: voxel value -> conductivity (S/m; a number, or for fe/periodic a tensor spec)
            of the phases that conduct that carrier; leave out the phases that block it.
        axes, method, options: as for :func:`femiec.homogenization.homogenize` (out_dir and json_path
            are not accepted here: call homogenize per carrier for fields).

    Returns:
        MixedConductionResult; ``deff_ratio`` of the two results are the effective conductivities in S/m.
    """
    for key in ("out_dir", "json_path"):
        if key in options:
            raise InputError(key, options[key], "no output options for mixed_conduction (use homogenize)")
    ion = homogenize(image, dict(ionic), axes=axes, method=method, **options)
    electron = homogenize(image, dict(electronic), axes=axes, method=method, **options)
    per_axis = {name: ambipolar(ion.axes[name].deff_ratio, electron.axes[name].deff_ratio) for name in ion.axes}
    tensor = None
    if ion.tensor is not None and electron.tensor is not None:
        tensor = ambipolar(ion.tensor, electron.tensor)
    return MixedConductionResult(ion, electron, per_axis, tensor)

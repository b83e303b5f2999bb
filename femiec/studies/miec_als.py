"""Adler-Lane-Steele (ALS) reference of a porous MIEC electrode image, from femiec's own image descriptors
(docs/mixed_conductors.md, "Porous MIEC electrode on an image").

Descriptors of the 0/1 image of :func:`femiec.problems.miec_electrode.connected_solid` (thickness along z):

    porosity        eps = pore voxels / all voxels                                        [-]
    tortuosity      tau = (1 - eps) sigma / sigma_eff,z of the solid phase (femiec.homogenization.homogenize,
                    method "fe": Q1 on the voxels, the discretisation of the resolved electrode)  [-]
    specific surface a = A_smooth / V, the smooth-corrected solid/pore area inside the image
                    (femiec.meshing.interface_area.interface_areas) per image volume       [1/m]
    particle size   d = 6 (1 - eps) / a (6 V/S: the diameter of a sphere)                 [m]
    contact fraction f = the solid's area fraction on z = 0                                [-]

ALS at the equilibrium state of the gas pO2 (sigma_ion, C_chem of the material there, an ideal electronic
rail), with the electrolyte transfer R_t in series:

    ASR_ALS = R_t / f + R_chem coth(L / delta),   delta = sqrt(sigma_eff R_s / a),   R_chem = delta / sigma_eff
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from femiec.analytic.mixed_conductors import ALSParameters, als_parameters


@dataclass(frozen=True)
class ImageDescriptors:
    """porosity [-], tortuosity (along z) [-], specific_surface a [1/m], particle_size d [m],
    contact_fraction f [-], thickness L [m]."""

    porosity: float
    tortuosity: float
    specific_surface: float
    particle_size: float
    contact_fraction: float
    thickness: float


def image_descriptors(image: np.ndarray, voxel_size, comm=None) -> ImageDescriptors:
    """The descriptors of the module docstring of a 0 (pore) / 1 (solid) image [ix, iy, iz]."""
    from femiec.homogenization import homogenize
    from femiec.meshing.interface_area import interface_areas
    from femiec.meshing.voxel import voxel_spacing

    spacing = voxel_spacing(voxel_size)
    mask = np.asarray(image) == 1
    eps = 1.0 - float(mask.mean())
    tau = homogenize(image, [1], axes="z", method="fe", voxel_size=spacing, comm=comm, rtol=1e-10).tau["z"]
    tau = max(float(tau), 1.0)  # a straight column gives 1 - O(rtol)
    a = interface_areas(mask, spacing)[1] / (mask.size * float(np.prod(spacing)))
    return ImageDescriptors(eps, tau, a, 6 * (1 - eps) / a, float(mask[:, :, 0].mean()),
                            float(mask.shape[2] * spacing[2]))


def als_reference(descriptors: ImageDescriptors, material, *, temperature: float, oxygen_pressure: float,
                  surface_resistance: float, transfer_resistance: float = 0.0) -> tuple[ALSParameters, float]:
    """(ALS parameters, ASR_ALS [Ohm m^2]) of the module docstring: the material's sigma_ion and C_chem at
    equilibrium with ``oxygen_pressure`` [Pa] and ``temperature`` [K], R_s = ``surface_resistance``
    [Ohm m^2] per (smooth) wall area, R_t = ``transfer_resistance`` [Ohm m^2]."""
    n = material.electrons_at(np.array([oxygen_pressure]), temperature)[0]
    d = descriptors
    als = als_parameters(material.ionic_conductivity(n, temperature), material.chemical_capacitance(n, temperature),
                         surface_resistance, d.porosity, d.tortuosity, d.specific_surface)
    asr = transfer_resistance / d.contact_fraction + als.resistance / np.tanh(d.thickness / als.utilization_length)
    return als, float(asr)

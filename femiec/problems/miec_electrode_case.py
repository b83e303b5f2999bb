"""The ``porous_mixed_conductor`` case: the resolved porous MIEC electrode
(:class:`femiec.problems.miec_electrode.PorousMIECElectrode`) of a typed ``[model]`` section
(:class:`femiec.models.porous_mixed_conductor.PorousMixedConductorModel`) and its run.

Run: the ASR at equilibrium (eta = 0; :meth:`PorousMIECElectrode.area_specific_resistance`), the ALS
reference of the same image (:mod:`femiec.studies.miec_als`, with R_s the linearised exchange resistance of
a Butler–Volmer r0, R_s = R T / (4 F^2 r0)), then the steady polarisation curve at ``overpotentials`` (in
the given order), and the fields of the final state.

Summary entries (``derived.porous_electrode``, SI units):
    image: shape, voxel_size_m, solid_fraction (connected MIEC voxels / all), porosity, projected_area_m2,
        thickness_m; pore_chord_length_m (x, y, z; null where the pores have no face normal to the axis)
        and pore_mean_chord_length_m
        (femiec.meshing.tomography.chord_lengths / mean_chord_length of the pores) and
        pore_cauchy_chord_length_m = 4 eps / a (a the smooth specific surface of the ALS descriptors).
    equilibrium_voltage_V = (R T/(4F)) ln(pO2/p_ref); asr_ohm_m2 at equilibrium.
    als: the descriptors (porosity, tortuosity, specific_surface_m_1, particle_size_m, contact_fraction),
        surface_resistance_ohm_m2, utilization_length_m, resistance_ohm_m2, time_constant_s, asr_ohm_m2.
    polarisation: overpotential_V, current_density_A_m2 (also polarisation.csv and polarisation.png).
    final_state: overpotential_V, current_density_A_m2, wall_current_A (int_walls w i_x dS),
        electrolyte_current_A, utilisation_depth_m (away from equilibrium).
    gas (with [model.gas]): pore_diameter_m (None: no Knudsen term), pore_diameter_from ("chord" or "case"),
        passes of the last coupled solve, supplied_oxygen_mol_s.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from femiec.errors import InputError

#: the polarisation columns (name, unit)
POLARISATION_COLUMNS = (("overpotential", "V"), ("current_density", "A/m^2"))


@dataclass
class CheckedImage:
    """The image of a case: ``solid`` the 0 (pore) / 1 (MIEC) image of
    :func:`femiec.problems.miec_electrode.connected_solid`, ``spacing`` [m] (3,), and the pore chord lengths
    [m] (along x, y, z, and their mean over all chords)."""

    solid: np.ndarray
    spacing: np.ndarray
    chord_lengths: np.ndarray
    mean_chord_length: float


@dataclass
class ElectrodeCase:
    """What ``build`` returns: the electrode (at equilibrium) and its checked image."""

    electrode: object
    image: CheckedImage


def checked_image(model) -> CheckedImage:
    """The cropped image of ``model.image`` with its solid/pore values checked (InputErrors named
    model.solid, model.pore, model.image, model.crop, ...): every solid and pore value present, no other value,
    a solid cluster connecting z = 0 to z = L."""
    from femiec.meshing.tomography import chord_lengths, mean_chord_length, read_image_crop
    from femiec.meshing.voxel import voxel_spacing
    from femiec.problems.miec_electrode import PORE, connected_solid
    from femiec.sections import remap_table

    image = read_image_crop(model.image, model.shape, model.dtype, model.crop, key="model.crop",
                            dataset=model.dataset, remap=remap_table(model.remap), prefix="model.")
    if image.ndim != 3:
        raise InputError("model.image", f"an image of shape {image.shape}", "a 3D image indexed [ix, iy, iz]")
    present = set(np.unique(image).tolist())
    for key, values in (("model.solid", model.solid_values()), ("model.pore", model.pore_values())):
        missing = [v for v in values if v not in present]
        if missing:
            raise InputError(key, missing, f"values present in the image {sorted(present)}")
    try:
        solid = connected_solid(image, model.solid_values(), model.pore_values())
    except InputError as exc:
        key = {"image": "model.image", "phase": "model.solid"}.get(exc.key, exc.key)
        raise InputError(key, exc.value, exc.expected + (" (model.solid and model.pore)" if key == "model.image"
                                                         else "")) from None
    if not (solid == PORE).any():
        raise InputError("model.pore", model.pore, "pores in the image (the cut-off solid clusters are pores too; "
                         "the walls between solid and pore exchange oxygen)")
    spacing = voxel_spacing(model.voxel_size)
    return CheckedImage(solid, spacing, chord_lengths(solid, PORE, spacing), mean_chord_length(solid, PORE, spacing))


def gas_transport(model, image: CheckedImage):
    """The GasTransport of ``[model.gas]`` (None without it); ``pore_diameter = "chord"`` is the pores' mean
    chord length."""
    from femiec.problems.pore_gas import GasTransport

    gas = model.gas
    if gas is None:
        return None
    diameter = image.mean_chord_length if gas.pore_diameter == "chord" else gas.pore_diameter
    return GasTransport(pore_diameter=diameter, pressure=gas.pressure, binary_diffusivity=gas.binary_diffusivity,
                        flux_law=gas.flux_law, tolerance=gas.tolerance, max_passes=gas.max_passes)


def problem_from_section(case, comm) -> ElectrodeCase:
    """The electrode of the case at equilibrium (every input error raised here, before any solve; the
    ``[output] fields`` selection is checked against the electrode's fields)."""
    from femiec.io.fields import check_selection
    from femiec.problems.miec_case import material_from_section
    from femiec.problems.miec_electrode import PorousMIECElectrode

    model = case.model
    image = checked_image(model)
    material = material_from_section(model.material)
    rates = model.rates(material, model.temperature)
    exchange = ({"surface_resistance": rates["resistance"]} if "resistance" in rates else
                {"exchange_rate": rates["exchange_rate"], "transfer_coefficient": rates["transfer_coefficient"]})
    electrode = PorousMIECElectrode(image.solid, image.spacing, material, solid=1, pore=0,
                                    temperature=model.temperature, oxygen_pressure=model.pressure,
                                    transfer_resistance=model.transfer_resistance, reactive_area=model.reactive_area,
                                    comm=comm, degree=model.degree, preset=case.solver.preset,
                                    petsc_options=case.solver.petsc_options or None,
                                    gas=gas_transport(model, image), **exchange)
    check_selection(case.output.fields, list(electrode.output_fields()))
    return ElectrodeCase(electrode, image)


def linear_resistance(model, material) -> float:
    """R_s [Ohm m^2] of the case's exchange: the linear one, or the linearised Butler–Volmer
    R_s = R T / (4 F^2 r0)."""
    from femiec.forms.miec import exchange_resistance

    rates = model.rates(material, model.temperature)
    return rates["resistance"] if "resistance" in rates else exchange_resistance(rates["exchange_rate"],
                                                                                 model.temperature)


def als_summary(model, built: ElectrodeCase) -> dict:
    """The ``als`` entries of the module docstring."""
    from femiec.studies.miec_als import als_reference, image_descriptors

    electrode = built.electrode
    material = electrode.problem.material
    descriptors = image_descriptors(electrode.image, electrode.spacing, electrode.problem.mesh.comm)
    resistance = linear_resistance(model, material)
    als, asr = als_reference(descriptors, material, temperature=model.temperature, oxygen_pressure=model.pressure,
                             surface_resistance=resistance, transfer_resistance=model.transfer_resistance)
    d = descriptors
    return {"porosity": d.porosity, "tortuosity": d.tortuosity, "specific_surface_m_1": d.specific_surface,
            "particle_size_m": d.particle_size, "contact_fraction": d.contact_fraction,
            "surface_resistance_ohm_m2": float(resistance), "utilization_length_m": float(als.utilization_length),
            "resistance_ohm_m2": float(als.resistance), "time_constant_s": float(als.time_constant),
            "asr_ohm_m2": asr}


def write_polarisation(out_dir, overpotentials, currents, comm) -> dict:
    """polarisation.csv and polarisation.png (rank 0 writes), rows sorted by overpotential."""
    from femiec.io.profiles import plot_profiles, write_profile_csv

    if comm.rank == 0:
        table = np.column_stack([overpotentials, currents])
        table = table[np.argsort(table[:, 0], kind="stable")]
        write_profile_csv(Path(out_dir) / "polarisation.csv", POLARISATION_COLUMNS, table)
        plot_profiles(Path(out_dir) / "polarisation.png", POLARISATION_COLUMNS, table)
    comm.barrier()
    return {"polarisation_csv": "polarisation.csv", "polarisation_png": "polarisation.png"}


def run_case(case, built: ElectrodeCase, out_dir, progress=None) -> dict:
    """The run of the module docstring; returns its summary entries."""
    from femiec.io.fields import FieldWriter

    model, electrode, image = case.model, built.electrode, built.image
    comm = electrode.problem.mesh.comm
    steps = len(model.overpotentials) + 2
    asr = electrode.area_specific_resistance()
    als = als_summary(model, built)
    if progress is not None:
        progress(2 / steps)
    currents = []
    for k, eta in enumerate(model.overpotentials):
        currents.append(electrode.solve(eta))
        if progress is not None:
            progress((k + 3) / steps)
    files = {}
    if currents:
        files.update(write_polarisation(out_dir, model.overpotentials, currents, comm))
    fields = electrode.output_fields()
    with FieldWriter(out_dir, fields, formats=tuple(case.output.formats), selection=case.output.fields) as writer:
        writer.write(0.0)
    wall = electrode.wall_current()
    final = {"overpotential_V": electrode.overpotential, "current_density_A_m2": electrode.current_density(),
             "wall_current_A": wall, "electrolyte_current_A": electrode.electrolyte_current()}
    if electrode.overpotential != 0:
        final["utilisation_depth_m"] = electrode.utilisation_depth()
    solid = image.solid
    eps = 1.0 - float(solid.mean())
    summary = {
        "image": {"shape": list(solid.shape), "voxel_size_m": image.spacing.tolist(),
                  "solid_fraction": float(solid.mean()), "porosity": eps,
                  "projected_area_m2": electrode.projected_area, "thickness_m": electrode.thickness,
                  "pore_chord_length_m": [float(x) if np.isfinite(x) else None for x in image.chord_lengths],
                  "pore_mean_chord_length_m": image.mean_chord_length,
                  "pore_cauchy_chord_length_m": 4 * eps / als["specific_surface_m_1"]},
        "equilibrium_voltage_V": float(electrode.equilibrium_voltage), "asr_ohm_m2": asr, "als": als,
        "polarisation": {"overpotential_V": list(model.overpotentials), "current_density_A_m2": currents},
        "final_state": final}
    if electrode.gas is not None:
        spec = electrode.gas.spec
        summary["gas"] = {"pore_diameter_m": spec.pore_diameter,
                          "pore_diameter_from": "chord" if model.gas.pore_diameter == "chord" else "case",
                          "passes": electrode.gas.passes, "supplied_oxygen_mol_s": electrode.gas.supplied_oxygen()}
    if progress is not None:
        progress(1.0)
    return {"model": "porous_mixed_conductor", "derived": {"porous_electrode": summary},
            "solver": {"unknowns": sum(V.dofmap.index_map.size_global * V.dofmap.index_map_bs
                                       for V in electrode.problem.spaces)},
            "fields": writer.describe(), **({"files": files} if files else {})}

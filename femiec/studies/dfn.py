"""The homogenized counterpart of a resolved electrode case: the parameters of the porous-electrode
(Doyle–Fuller–Newman, DFN) half-cell derived from the same image and case file, written as a PyBaMM
parameter set, and PyBaMM's DFN run with them (docs/resolved_vs_homogenized.md).

Geometry (the case's image, cropped, padded and labelled as the electrode model labels it:
:func:`femiec.problems.electrode_case.image_phase_labels`; the electrode region is the image without the
separator pad, of thickness L along the separator-collector axis and cross-section A = W H):

    porosity            eps   = V(connected electrolyte) / V                          [-]
    active fraction     eps_s = V(connected active material) / V                      [-]
    electrolyte         B_e   = D_eff / D = kappa_eff / kappa of the connected pores along the thickness;
                                Bruggeman exponent b_e = ln B_e / ln eps, tortuosity factor tau_e = eps / B_e
    solid               sigma_eff [S/m] of the connected active material and conductor at their
                                conductivities
    transport scheme    both from femiec.homogenization on the image with the inert voxels removed:
                                "resolved" (default) discretises them as the resolved electrode does, Q1
                                elements on the voxel mesh with the case's ``mesh.connectivity`` (``fe``);
                                "fv" with face-connected finite volumes (TauFactor's scheme). Both values
                                are reported; Q1 on vertex-connected voxels conducts more (64^3 NMC crop:
                                B_e 0.235 vs 0.203, sigma_eff 0.350 vs 0.189 S/m)
    specific area       a = A_Gamma / V [1/m]: A_Gamma the faces between connected active material and
                                connected electrolyte, staircase (sum of face areas) or smooth (faces
                                weighted, femiec.meshing.interface_area); the kinetics use the area the
                                case's ``reactive_area`` gives the resolved model
    particles           per 6-connected active particle p: volume V_p, reactive (smooth) area A_p,
                                equivalent-sphere radius r_p = (3 V_p / (4 pi))^(1/3), diffusion-length
                                radius 3 V_p / A_p and diffusion-lag radii R_p [m] (the sphere with the same
                                volume-averaged lag under a uniform filling rate, three surface conditions:
                                femiec.studies.diffusion_lag)
    particle radius     the DFN's R (``radius``, :data:`PARTICLE_RADII`): "lag_kinetics" (default) the
                                diffusion-lag radius with the case's linearised kinetics (kinetic length
                                l = D_s / k, :func:`kinetic_length`), the particles in parallel; "lag_flux",
                                "lag_concentration" its two limits; "area" sum_p V_p (3 V_p / A_p) / sum_p V_p;
                                "sphere" sum_p V_p r_p / sum_p V_p

A DFN particle of radius R has the area 3 eps_s / R per volume; its exchange-current density is scaled by
f = a / (3 eps_s / R), so that a i0 (the kinetics) equals the resolved model's and R (the diffusion
length) is the one above.

Ranks: the image is read and kept by x-planes (femiec.meshing.rank_planes): each rank holds its own planes
and a halo of femiec.problems.electrode_planes.electrode_halo planes (7 on cubic voxels: the reach of the
smooth area weights), labels them as the electrode does on planes (planes_phase_labels: the clusters joined
across the ranks, the labels of image_phase_labels), counts the reactive faces whose lower voxel it owns
and sums every count, area and per-particle volume and area over the ranks (the per-particle arrays, one
value per particle, are on every rank). The diffusion-lag solve meshes the particles of the planes
(femiec.studies.diffusion_lag) and the transport solves take the electrode's planes without the pad; both
cut the planes as they cut a whole image (by their meshed voxels), so the numbers are those of the whole
image on one rank (bit-identical on one rank; on 2 ranks the sums over the ranks to round-off). No rank
holds more of the image than its planes: the image's memory per rank falls as 1/ranks.

Materials are mapped one to one (same OCV table and interpolation, same i0(c, c_s), same constant
electrolyte properties, same separator layer); the femiec cell voltage is measured against an ideal Li
reference at the separator face, so the DFN's lithium counter electrode gets a negligible overpotential
(i0 = 1e6 A/m^2) and resistance. Units: SI throughout, as PyBaMM's parameter names state them.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from femiec.constants import FARADAY
from femiec.errors import InputError, MissingDependencyError

#: exchange-current density [A/m^2], thickness [m], conductivity [S/m] and partial molar volume [m^3/mol]
#: of the DFN's Li metal counter electrode: an ideal reference (overpotential and ohmic drop < 1 uV at
#: 100 A/m^2), as the femiec voltage is measured against an ideal Li reference at the separator face
LITHIUM_EXCHANGE_CURRENT = 1.0e6
LITHIUM_THICKNESS = 1.0e-6
LITHIUM_CONDUCTIVITY = 1.0776e7
LITHIUM_MOLAR_VOLUME = 1.3e-5
#: separator of a case without a porous separator layer (the current enters the electrode's pores
#: directly): a film too thin to matter
NO_SEPARATOR_THICKNESS = 1.0e-9
#: relative residual of the homogenization solves: the transport parameters to ~1e-9, the same on any
#: number of ranks (the default 1e-6 of femiec.homogenization moves them by up to ~3e-4 between partitions)
HOMOGENIZATION_RTOL = 1e-12
#: where the effective transport of each phase comes from (module docstring): the resolved electrode's own
#: discretisation (Q1 on the voxel mesh), or face-connected finite volumes
TRANSPORT_SCHEMES = ("resolved", "fv")
#: the DFN's particle radius (module docstring) -> its geometry key and its description: the diffusion-lag
#: radius of three surface conditions, the volume mean of 3 V_p / A_p or of the equivalent-sphere radius
PARTICLE_RADII = {
    "lag_kinetics": ("mean_diffusion_lag_kinetics_radius_m", "diffusion-lag radius of the particles in "
                     "parallel, R_p^2 = 15 D lag_p / s, linearised kinetics (femiec.studies.diffusion_lag)"),
    "lag_flux": ("mean_diffusion_lag_flux_radius_m", "diffusion-lag radius of the particles in parallel, "
                 "R_p^2 = 15 D lag_p / s, uniform flux per reactive area (femiec.studies.diffusion_lag)"),
    "lag_concentration": ("mean_diffusion_lag_concentration_radius_m", "diffusion-lag radius of the particles "
                          "in parallel, R_p^2 = 15 D lag_p / s, uniform surface concentration "
                          "(femiec.studies.diffusion_lag)"),
    "area": ("mean_diffusion_length_radius_m", "volume-weighted mean of 3 V_p / A_p"),
    "sphere": ("mean_equivalent_sphere_radius_m", "volume-weighted mean of (3 V_p / (4 pi))^(1/3)"),
}


# ------------------------------------------------------------------------------------------ geometry
def microstructure(image, electrolyte: list[int], active: list[int], conductor: list[int],
                   active_conductivity: float, conductor_conductivity: float, voxel_size,
                   separator: str = "xmin", collector: str = "xmax", pad_voxels: int = 0, comm=None,
                   transport_scheme: str = "resolved", connectivity: str = "vertex",
                   reactive_area: str = "smooth", kinetic_length: float | None = None) -> dict:
    """Geometric DFN parameters (module docstring) of the labelled ``image`` [ix, iy, iz] whose first
    ``pad_voxels`` voxels behind the ``separator`` face are a separator layer (electrolyte values listed in
    ``electrolyte``). Lengths in m, areas in m^2, conductivities in S/m. ``transport_scheme``: "resolved"
    (Q1 elements on the voxel mesh of ``connectivity``, "vertex" or "face", as the resolved electrode) or
    "fv" gives ``electrolyte_transport`` and ``solid_conductivity_S_m``; both schemes' values are in the
    dict. ``image``: an array (the same on every rank) or this rank's
    :class:`femiec.meshing.rank_planes.RankPlanes` of it with a halo of at least
    :func:`femiec.problems.electrode_planes.electrode_halo` planes; either way each rank works on its own
    x-planes (module docstring, "Ranks"). Collective (on ``comm``); every rank returns the same dict."""
    from mpi4py import MPI

    from femiec.homogenization import homogenize
    from femiec.meshing.interface_area import face_area_weights, phase_faces
    from femiec.meshing.rank_planes import RankPlanes, phase_table, read_rank_planes
    from femiec.meshing.tomography import BOX_FACES, unmeshed_value
    from femiec.meshing.voxel import CONNECTIVITIES, voxel_spacing
    from femiec.problems.electrode_planes import check_halo, electrode_halo, planes_phase_labels
    from femiec.studies.diffusion_lag import SURFACE_CONDITIONS, diffusion_lag

    comm = comm if comm is not None else MPI.COMM_WORLD
    if transport_scheme not in TRANSPORT_SCHEMES:
        raise InputError("transport_scheme", transport_scheme, f"one of {list(TRANSPORT_SCHEMES)}")
    if connectivity not in CONNECTIVITIES:
        raise InputError("mesh.connectivity", connectivity, f"one of {list(CONNECTIVITIES)}")
    spacing = voxel_spacing(voxel_size)
    axis, index = BOX_FACES[separator]
    if collector not in BOX_FACES or BOX_FACES[collector][0] != axis or BOX_FACES[collector][1] == index:
        raise InputError("model.collector", collector, f"the box face opposite the separator face {separator}")
    if isinstance(image, RankPlanes):
        check_halo(image, spacing)
        planes = image
    else:  # each rank's planes of the array (views, no copy)
        planes = read_rank_planes(np.asarray(image), comm, None, halo=electrode_halo(spacing))
    data, start, (i0, i1) = planes.data, planes.start, planes.own
    inert, particles = planes_phase_labels(planes, comm, electrolyte, active, conductor, separator, collector)
    pore = phase_table(electrolyte)[data] & ~inert
    active_mask = phase_table(active)[data]
    # the reactive faces whose lower voxel is on an owned plane: connected active material against connected
    # electrolyte (indices in the planes kept)
    lower, face_axis = phase_faces(active_mask[i0 - start:min(i1 + 1, planes.shape[0]) - start])
    owned = lower[:, 0] < i1 - i0
    lower, face_axis = lower[owned], face_axis[owned]
    lower[:, 0] += i0 - start
    upper = lower.copy()
    upper[np.arange(len(face_axis)), face_axis] += 1
    lo, up = tuple(lower.T), tuple(upper.T)
    particle_side = np.where(active_mask[lo], particles[lo], particles[up])
    pore_side = np.where(active_mask[lo], pore[up], pore[lo])
    reactive = (particle_side > 0) & pore_side
    face_area = np.array([spacing[1] * spacing[2], spacing[0] * spacing[2], spacing[0] * spacing[1]])[face_axis]
    weights = face_area_weights(active_mask, lower[reactive], face_axis[reactive], spacing)
    staircase, smooth = face_area[reactive], weights * face_area[reactive]

    # the owned voxels of the electrode: the image without the separator pad
    shape = list(planes.shape)
    shape[axis] -= pad_voxels
    electrode = [slice(i0 - start, i1 - start), slice(None), slice(None)]
    if axis == 0:
        first, stop = (pad_voxels, planes.shape[0]) if index == 0 else (0, shape[0])
        a = min(max(i0, first), stop)
        electrode[0] = slice(a - start, max(min(i1, stop), a) - start)
    else:
        electrode[axis] = slice(pad_voxels, None) if index == 0 else slice(0, shape[axis])
    electrode = tuple(electrode)
    size = int(np.prod(shape))

    def voxels(mask: np.ndarray) -> int:
        """Voxels of ``mask`` (over the planes kept) in the electrode, summed over the ranks."""
        return comm.allreduce(int(np.count_nonzero(mask[electrode])))

    voxel_volume = float(np.prod(spacing))
    volume = size * voxel_volume
    labels = particles[electrode]
    count = comm.allreduce(int(particles.max()) if particles.size else 0, op=MPI.MAX)
    volume_p = comm.allreduce(np.bincount(labels.ravel(), minlength=count + 1))[1:] * voxel_volume
    area_p = comm.allreduce(np.bincount(particle_side[reactive], weights=smooth, minlength=count + 1))[1:]
    keep = (volume_p > 0) & (area_p > 0)
    radius_eq = (3 * volume_p[keep] / (4 * np.pi)) ** (1 / 3)
    radius_diffusion = 3 * volume_p[keep] / area_p[keep]
    # the diffusion-lag radius of the particles with a reactive face (femiec.studies.diffusion_lag)
    relabel = np.zeros(len(keep) + 1, dtype=np.int64)
    relabel[1:][keep] = np.arange(1, keep.sum() + 1)
    lag = diffusion_lag(relabel[particles], pore, active_mask, spacing, comm, connectivity, reactive_area,
                        kinetic_length, planes=planes)
    lengths = np.array(shape) * spacing
    across = [k for k in range(3) if k != axis]

    solid = {v: active_conductivity for v in active}
    solid.update({v: conductor_conductivity for v in conductor})
    # the phases the resolved model keeps: its inert voxels get a value that conducts in neither solve
    connected = np.where(inert, unmeshed_value([*electrolyte, *solid]), data)
    cut = connected[tuple(slice(None) if k == 0 else electrode[k] for k in range(3))]  # the pad cut off across x
    present = comm.allreduce(np.bincount(connected[electrode].ravel().astype(np.intp), minlength=256))
    cached = {}

    def transport(table: dict, scheme: str) -> float:
        table = {v: k for v, k in table.items() if present[v]}
        if tuple(table) not in cached:  # the electrode's planes cut by the conducting voxels, as homogenize cuts
            cached[tuple(table)] = _electrode_planes(planes, cut, electrode, list(table), present, axis, index,
                                                     pad_voxels, comm)
        options = {"method": "fv"} if scheme == "fv" else {"method": "fe", "connectivity": connectivity}
        return float(homogenize(cached[tuple(table)], table, axes="xyz"[axis], voxel_size=spacing, comm=comm,
                                rtol=HOMOGENIZATION_RTOL, **options).axes["xyz"[axis]].deff_ratio)

    porosity = voxels(pore) / size
    active_fraction = voxels(particles > 0) / size
    schemes = {scheme: (transport({v: 1.0 for v in electrolyte}, scheme), transport(solid, scheme))
               for scheme in TRANSPORT_SCHEMES}
    electrolyte_transport, solid_conductivity = schemes[transport_scheme]
    return {
        "transport_scheme": transport_scheme,
        "transport_discretisation": (f"Q1 elements on the voxel mesh, {connectivity}-connected voxels (as the "
                                     f"resolved electrode)" if transport_scheme == "resolved"
                                     else "face-connected finite volumes"),
        "electrolyte_transport_resolved": schemes["resolved"][0], "electrolyte_transport_fv": schemes["fv"][0],
        "solid_conductivity_resolved_S_m": schemes["resolved"][1], "solid_conductivity_fv_S_m": schemes["fv"][1],
        "thickness_m": float(lengths[axis]), "width_m": float(lengths[across[0]]),
        "height_m": float(lengths[across[1]]), "separator_thickness_m": float(pad_voxels * spacing[axis]),
        "volume_m3": volume, "porosity": porosity, "active_fraction": active_fraction,
        "conductor_fraction": voxels(phase_table(conductor)[data]) / size,
        "inert_fraction": voxels(inert) / size,
        "electrolyte_transport": electrolyte_transport,
        "electrolyte_tortuosity_factor": porosity / electrolyte_transport if electrolyte_transport > 0 else None,
        "electrolyte_bruggeman": (math.log(electrolyte_transport) / math.log(porosity)
                                  if 0 < electrolyte_transport and 0 < porosity < 1 else None),
        "solid_conductivity_S_m": solid_conductivity,
        "interface_area_staircase_m2": comm.allreduce(float(staircase.sum())),
        "interface_area_smooth_m2": comm.allreduce(float(smooth.sum())),
        "particles": int(keep.sum()),
        "particle_volume_m3": volume_p[keep].tolist(),
        "particle_reactive_area_m2": area_p[keep].tolist(),
        "equivalent_sphere_radius_m": radius_eq.tolist(),
        "diffusion_length_radius_m": radius_diffusion.tolist(),
        "mean_equivalent_sphere_radius_m": _volume_mean(radius_eq, volume_p[keep]),
        "mean_diffusion_length_radius_m": _volume_mean(radius_diffusion, volume_p[keep]),
        **{f"diffusion_lag_{condition}_radius_m": lag[f"radius_{condition}_m"].tolist()
           for condition in SURFACE_CONDITIONS if f"radius_{condition}_m" in lag},
        **{f"mean_diffusion_lag_{condition}_radius_m": lag.get(f"radius_{condition}_m_overall")
           for condition in SURFACE_CONDITIONS},
        "reactive_area": reactive_area, "kinetic_length_m": kinetic_length,
    }


def _electrode_planes(planes, cut: np.ndarray, electrode: tuple, phases: list[int], histogram: np.ndarray,
                      axis: int, index: int, pad_voxels: int, comm):
    """The RankPlanes of the electrode's image (the separator pad cut off) whose values, over the planes kept
    of ``planes``, are ``cut`` (the pad already cut off across x); ``electrode`` the owned electrode voxels
    (indices in the planes kept), ``histogram`` its values over the ranks. Cut anew by the voxels of
    ``phases`` (the partition :func:`femiec.homogenization.homogenize` gives the array). Collective."""
    from mpi4py import MPI

    from femiec.meshing.rank_planes import phase_table

    n = planes.shape[0] - (pad_voxels if axis == 0 else 0)
    shift = -pad_voxels if axis == 0 and index == 0 else 0
    counts = np.zeros(n, dtype=np.int64)
    first = electrode[0].start + planes.start + shift  # the first owned electrode plane in the electrode
    counts[first:first + electrode[0].stop - electrode[0].start] = np.count_nonzero(
        phase_table(phases)[cut[electrode[0]]], axis=(1, 2))
    comm.Allreduce(MPI.IN_PLACE, counts, op=MPI.SUM)
    return planes.repartitioned(cut, counts, histogram.astype(np.int64), comm, shift=shift)


def _volume_mean(values: np.ndarray, volumes: np.ndarray) -> float | None:
    return float(np.sum(values * volumes) / np.sum(volumes)) if len(values) else None


def case_microstructure(case, comm=None, transport_scheme: str = "resolved") -> dict:
    """:func:`microstructure` of an electrode case with ``[mesh] kind = "image"`` (its crop, remap and a
    pad on the separator face; the transport of ``transport_scheme``, "resolved" with the case's
    ``mesh.connectivity``, refused on a conforming mesh); collective. Each rank reads only its x-planes of
    the image and a halo of :func:`femiec.problems.electrode_planes.electrode_halo` planes (cropped,
    remapped and padded slab by slab: femiec.meshing.image_source)."""
    from mpi4py import MPI

    from femiec.meshing.image_source import PaddedImage, open_image_crop
    from femiec.meshing.rank_planes import read_rank_planes
    from femiec.problems.electrode_geometry import reactive_area_for
    from femiec.problems.electrode_planes import electrode_halo
    from femiec.sections import remap_table

    comm = comm if comm is not None else MPI.COMM_WORLD
    mesh, model = case.mesh, case.model
    if model.kind != "electrode" or mesh.kind != "image":
        raise InputError("model.kind", model.kind, "an electrode case on an image mesh ([mesh] kind = \"image\")")
    if mesh.percolating_axis is not None:
        raise InputError("mesh.percolating_axis", mesh.percolating_axis,
                         "none (femiec dfn labels the connected phases itself, as the electrode model does)")
    if transport_scheme == "resolved" and mesh.mesher != "voxel":
        raise InputError("mesh.mesher", mesh.mesher, "\"voxel\" for the resolved transport scheme (Q1 on the "
                         "voxel mesh); on a conforming mesh use --transport-scheme fv")
    image = open_image_crop(mesh.file, mesh.shape, mesh.dtype, mesh.crop, key="mesh.crop", dataset=mesh.dataset,
                            remap=remap_table(mesh.remap), prefix="mesh.")
    values = {key: [mesh.phases[n] for n in getattr(model, key)]
              for key in ("electrolyte_regions", "active_regions", "conductor_regions")}
    electrolyte, pad_voxels = values["electrolyte_regions"], 0
    if mesh.pad is not None:
        if mesh.pad.face != model.separator[0]:
            raise InputError("mesh.pad.face", mesh.pad.face, f"the separator face {model.separator[0]}")
        image = PaddedImage(image, mesh.pad.face, mesh.pad.voxels, mesh.pad.value, key="mesh.pad")
        pad_voxels = mesh.pad.voxels
        if model.porous_separator is None or mesh.pad.value not in [mesh.phases[n] for n in
                                                                    model.porous_separator.regions]:
            raise InputError("mesh.pad.value", mesh.pad.value, "a phase of model.porous_separator.regions")
        electrolyte = electrolyte + [mesh.pad.value]
    planes = read_rank_planes(image, comm, None, halo=electrode_halo(mesh.voxel_size), key="mesh.file",
                              remap_hint="map them with mesh.remap = { <value> = <label> }")
    return microstructure(planes, electrolyte, values["active_regions"], values["conductor_regions"],
                          model.active_material.conductivity, model.conductor_conductivity, mesh.voxel_size,
                          model.separator[0], model.collector[0], pad_voxels, comm, transport_scheme,
                          mesh.connectivity, reactive_area_for(model.reactive_area, voxel_mesh=True),
                          kinetic_length(model))


def kinetic_length(model) -> float | None:
    """l = D_s / k [m] of the electrode ``[model]``: the transfer coefficient of the linearised
    Butler–Volmer kinetics k(x) = i0(x) |dU/dx| / (c_max R T) [m/s] (i0(x) = 2 i0_ref sqrt(x (1 - x)) at
    c = c_ref, U the OCV), averaged over the discharge, x from ``initial_stoichiometry`` to the top of the
    stoichiometry window; D_s the trace / 3 of a tensor (femiec.studies.diffusion_lag, "kinetics"). None
    for kinetics other than Butler–Volmer (which femiec dfn refuses)."""
    from femiec.constants import GAS_CONSTANT

    active = model.active_material
    if getattr(active, "kinetics", None) != "butler_volmer":
        return None
    d_s = np.asarray(active.diffusivity, dtype=float)
    d_s = float(np.trace(d_s) / 3 if d_s.ndim == 2 else d_s)
    x = np.linspace(active.initial_stoichiometry, active.stoichiometry_window[1], 201)
    slope = np.abs(np.gradient(np.asarray(active.open_circuit_voltage()(x), dtype=float), x))
    i0 = 2 * active.exchange_current_density * np.sqrt(x * (1 - x))
    k = i0 * slope / (active.max_concentration * GAS_CONSTANT * model.temperature)
    return d_s / float(np.mean(k))


# ------------------------------------------------------------------------------------------ parameters
def _entry(value, unit: str, source: str) -> dict:
    return {"value": value, "unit": unit, "source": source}


def dfn_parameters(model, geometry: dict, radius: str = "lag_kinetics") -> dict:
    """The PyBaMM half-cell parameter set (PyBaMM's names; each ``{"value", "unit", "source"}``) of an
    electrode ``[model]`` section and its :func:`microstructure`. The OCV is ``{"ocv_table": {...}}`` (the
    case's table and interpolation), the exchange-current density ``{"exchange_current": {...}}`` (femiec's
    i0(c, c_s) times the area factor f); both become PyBaMM functions in :func:`parameter_values`.
    ``radius``: the particle radius, a key of :data:`PARTICLE_RADII`."""
    if radius not in PARTICLE_RADII:
        raise InputError("radius", radius, f"one of {list(PARTICLE_RADII)}")
    radius_key, radius_source = PARTICLE_RADII[radius]
    active, electrolyte, run = model.active_material, model.electrolyte, model.discharge
    if active.kinetics != "butler_volmer":
        raise InputError("model.active_material.kinetics", active.kinetics,
                         "\"butler_volmer\" (femiec dfn maps Butler–Volmer kinetics to PyBaMM's)")
    if model.double_layer is not None:
        raise InputError("model.double_layer", "a table", "none (the DFN has an electroneutral electrolyte)")
    g = geometry
    eps, eps_s, particle_radius = g["porosity"], g["active_fraction"], g[radius_key]
    if particle_radius is None and radius == "lag_kinetics":
        raise InputError("radius", radius, "a geometry with a kinetic length (microstructure(kinetic_length=...), "
                                           "as case_microstructure gives it), or another radius")
    if not (eps > 0 and eps_s > 0 and particle_radius and g["electrolyte_transport"] > 0
            and g["solid_conductivity_S_m"] > 0):
        raise InputError("mesh", {k: g[k] for k in ("porosity", "active_fraction", "electrolyte_transport",
                                                    "solid_conductivity_S_m")},
                         "an electrode whose pores and solid span it and whose active material reacts")
    from femiec.problems.electrode_geometry import reactive_area_for

    reactive_area = reactive_area_for(model.reactive_area, voxel_mesh=True)  # an image case
    area = g["interface_area_smooth_m2" if reactive_area == "smooth" else "interface_area_staircase_m2"]
    specific_area = area / g["volume_m3"]
    area_factor = specific_area / (3 * eps_s / particle_radius)
    d_s = np.asarray(active.diffusivity, dtype=float)
    lo, hi = active.stoichiometry_window
    capacity = FARADAY * active.max_concentration * (hi - lo) * eps_s * g["volume_m3"] / 3600.0
    current = run.current if run.current is not None else run.c_rate * capacity
    ocv = active.open_circuit_voltage()
    sep = model.porous_separator
    src = "case" if g["separator_thickness_m"] > 0 else "no separator layer in the case: a negligible film"
    geo = "image (femiec.studies.dfn.microstructure)"
    scheme = g["transport_discretisation"]
    p = {
        "Positive electrode thickness [m]": _entry(g["thickness_m"], "m", geo),
        "Electrode width [m]": _entry(g["width_m"], "m", geo),
        "Electrode height [m]": _entry(g["height_m"], "m", geo),
        "Positive electrode porosity": _entry(eps, "-", geo + ": connected electrolyte"),
        "Positive electrode active material volume fraction": _entry(eps_s, "-", geo + ": connected active material"),
        "Positive electrode Bruggeman coefficient (electrolyte)": _entry(
            g["electrolyte_bruggeman"], "-", f"ln(B_e)/ln(eps): eps^b equals B_e of the pores, {scheme}"),
        "Positive electrode Bruggeman coefficient (electrode)": _entry(0.0, "-", "0: the conductivity is effective"),
        "Positive electrode conductivity [S.m-1]": _entry(g["solid_conductivity_S_m"], "S/m",
                                                          f"active material + conductor, {scheme}"),
        "Positive particle radius [m]": _entry(particle_radius, "m", radius_source),
        "Positive particle diffusivity [m2.s-1]": _entry(
            float(np.trace(d_s) / 3 if d_s.ndim == 2 else d_s), "m^2/s",
            "model.active_material.diffusivity" + (" (trace / 3 of the tensor)" if d_s.ndim == 2 else "")),
        "Maximum concentration in positive electrode [mol.m-3]": _entry(active.max_concentration, "mol/m^3",
                                                                        "model.active_material.max_concentration"),
        "Initial concentration in positive electrode [mol.m-3]": _entry(
            active.initial_stoichiometry * active.max_concentration, "mol/m^3", "initial_stoichiometry * c_max"),
        "Positive electrode OCP [V]": _entry({"ocv_table": ocv.as_dict()}, "V", "model.active_material.ocv"),
        "Positive electrode OCP entropic change [V.K-1]": _entry(0.0, "V/K", "isothermal model"),
        "Positive electrode exchange-current density [A.m-2]": _entry(
            {"exchange_current": {"i0_ref": active.exchange_current_density, "c_ref": electrolyte.concentration,
                                  "area_factor": area_factor}},
            "A/m^2", f"i0_ref sqrt(c/c_ref) sqrt(c_s (c_max - c_s))/(c_max/2) * f, f = a/(3 eps_s/R) "
                     f"with a from the {reactive_area} area"),
        "Positive electrode Butler-Volmer transfer coefficient": _entry(active.transfer_coefficient, "-",
                                                                        "model.active_material.transfer_coefficient"),
        "Separator thickness [m]": _entry(g["separator_thickness_m"] or NO_SEPARATOR_THICKNESS, "m", src),
        "Separator porosity": _entry(sep.porosity if sep else 1.0, "-", src),
        "Separator Bruggeman coefficient (electrolyte)": _entry(sep.bruggeman_exponent if sep else 0.0, "-", src),
        "Initial concentration in electrolyte [mol.m-3]": _entry(electrolyte.concentration, "mol/m^3",
                                                                 "model.electrolyte.concentration"),
        "Electrolyte diffusivity [m2.s-1]": _entry(electrolyte.diffusivity, "m^2/s", "model.electrolyte"),
        "Electrolyte conductivity [S.m-1]": _entry(electrolyte.conductivity, "S/m", "model.electrolyte"),
        "Cation transference number": _entry(electrolyte.transference_number, "-", "model.electrolyte"),
        "Thermodynamic factor": _entry(electrolyte.thermodynamic_factor, "-", "model.electrolyte"),
        "Exchange-current density for lithium metal electrode [A.m-2]": _entry(
            LITHIUM_EXCHANGE_CURRENT, "A/m^2", "ideal Li reference (femiec's voltage)"),
        "Negative electrode Butler-Volmer transfer coefficient": _entry(0.5, "-", "ideal Li reference"),
        "Lithium metal partial molar volume [m3.mol-1]": _entry(LITHIUM_MOLAR_VOLUME, "m^3/mol", "Li metal"),
        "Negative electrode thickness [m]": _entry(LITHIUM_THICKNESS, "m", "ideal Li reference"),
        "Negative electrode conductivity [S.m-1]": _entry(LITHIUM_CONDUCTIVITY, "S/m", "Li metal"),
        "Reference temperature [K]": _entry(model.temperature, "K", "model.temperature"),
        "Ambient temperature [K]": _entry(model.temperature, "K", "model.temperature"),
        "Initial temperature [K]": _entry(model.temperature, "K", "model.temperature"),
        "Nominal cell capacity [A.h]": _entry(capacity, "A h", "F c_max (x_max - x_min) eps_s V / 3600"),
        "Current function [A]": _entry(current, "A", "model.discharge (c_rate x capacity, or current)"),
        "Number of electrodes connected in parallel to make a cell": _entry(1.0, "-", "one electrode"),
        "Number of cells connected in series to make a battery": _entry(1.0, "-", "one cell"),
        "Lower voltage cut-off [V]": _entry(run.voltage_min, "V", "model.discharge.voltage_min"),
        "Upper voltage cut-off [V]": _entry(run.voltage_max, "V", "model.discharge.voltage_max"),
    }
    t_end = run.t_end if run.t_end is not None else 1.2 * capacity / abs(current) * 3600.0
    return {"parameters": p, "geometry": g,
            "derived": {"particle_radius": radius, "specific_area_m-1": specific_area, "reactive_area": reactive_area,
                        "area_factor": area_factor, "capacity_Ah": capacity, "t_end_s": t_end},
            "not_mapped": {"double_layer_capacitance": model.double_layer_capacitance,
                           "counter_electrode": None if model.counter_electrode is None else "impedance only"}}


def write_parameters(path, parameters: dict) -> Path:
    """Write a :func:`dfn_parameters` dict as JSON."""
    path = Path(path)
    path.write_text(json.dumps(parameters, indent=1))
    return path


def read_parameters(path) -> dict:
    """The dict :func:`write_parameters` wrote (InputError for another file)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError("parameters", str(path), f"a readable dfn_parameters.json ({exc})") from None
    if not isinstance(data, dict) or "parameters" not in data:
        raise InputError("parameters", str(path), "a dfn_parameters.json with a \"parameters\" table")
    return data


# ------------------------------------------------------------------------------------------ PyBaMM
def require_pybamm():
    """The ``pybamm`` module, or MissingDependencyError (one line) with the install hint."""
    try:
        import pybamm
    except ImportError:
        raise MissingDependencyError("PyBaMM is not installed: pip install femiec[dfn] (or pip install pybamm)") from None
    return pybamm


def pybamm_ocv(table: dict):
    """U(sto) as a PyBaMM function: femiec's OpenCircuitVoltage of ``table`` (stoichiometry, voltage_V,
    kind), its pieces (:meth:`~femiec.materials.ocv.OpenCircuitVoltage.pieces`) selected with Heaviside
    terms, so the DFN sees the same curve and the same linear continuation outside the table."""
    from femiec.materials.ocv import OpenCircuitVoltage

    curve = OpenCircuitVoltage(table["stoichiometry"], table["voltage_V"], table.get("kind", "pchip"))

    def ocv(sto):
        total = 0
        for lower, upper, expression in curve.pieces(sto):
            term = expression
            if np.isfinite(lower):
                term = term * (sto >= lower)
            if np.isfinite(upper):
                term = term * (sto < upper)
            total = total + term
        return total
    return ocv


def pybamm_exchange_current(i0_ref: float, c_ref: float, area_factor: float = 1.0):
    """i0(c_e, c_s, c_max, T) = f i0_ref sqrt(c_e/c_ref) sqrt(c_s (c_max - c_s)) / (c_max/2) [A/m^2] as a
    PyBaMM function: femiec.forms.electrode.exchange_current_density (same floors) times the area factor f."""
    pybamm = require_pybamm()

    def i0(c_e, c_s, c_max, temperature):
        solid = pybamm.maximum(c_s * (c_max - c_s), (1e-6 * c_max) ** 2)
        return area_factor * i0_ref * pybamm.maximum(c_e / c_ref, 1e-12) ** 0.5 * solid ** 0.5 / (c_max / 2)
    return i0


def parameter_values(parameters: dict):
    """``pybamm.ParameterValues`` of a :func:`dfn_parameters` dict (or its JSON)."""
    pybamm = require_pybamm()
    values = {}
    for name, entry in parameters["parameters"].items():
        value = entry["value"]
        if isinstance(value, dict) and "ocv_table" in value:
            value = pybamm_ocv(value["ocv_table"])
        elif isinstance(value, dict) and "exchange_current" in value:
            value = pybamm_exchange_current(**value["exchange_current"])
        values[name] = value
    return pybamm.ParameterValues(values)


def dfn_model():
    """PyBaMM's DFN half-cell with the positive electrode as working electrode and Butler–Volmer kinetics
    with a transfer coefficient (femiec's sign convention: i = i0 [exp(alpha F eta/RT) - exp(-(1-alpha) F
    eta/RT)], anodic positive)."""
    pybamm = require_pybamm()
    return pybamm.lithium_ion.DFN(options={"working electrode": "positive",
                                           "intercalation kinetics": "asymmetric Butler-Volmer"})


def run_dfn(parameters: dict, points: int = 30) -> dict:
    """Solve the DFN of ``parameters`` from t = 0 to the cut-off (or t_end): ``{"time_s", "voltage_V",
    "capacity_Ah", "current_A"}`` lists; ``points`` mesh points per domain (x in the separator and
    electrode, r in the particle)."""
    pybamm = require_pybamm()
    model = dfn_model()
    var_pts = {**model.default_var_pts, "x_s": points, "x_p": points, "r_p": points}
    sim = pybamm.Simulation(model, parameter_values=parameter_values(parameters), var_pts=var_pts)
    solution = sim.solve([0.0, parameters["derived"]["t_end_s"]])
    return {"time_s": solution["Time [s]"].entries.tolist(), "voltage_V": solution["Voltage [V]"].entries.tolist(),
            "capacity_Ah": solution["Discharge capacity [A.h]"].entries.tolist(),
            "current_A": solution["Current [A]"].entries.tolist()}


# ------------------------------------------------------------------------------------------ comparison
def compare_curves(resolved: dict, dfn: dict, points: int = 400) -> dict:
    """The two curves on a common capacity axis: final capacities [A h], their relative difference
    (Q_dfn - Q_resolved) / Q_resolved, and the rms and largest |V_dfn - V_resolved| [V] over the capacity
    both reach under current (linear interpolation in |capacity|; the resolved curve's t = 0 point is its
    open-circuit state before the current is switched on and is left out)."""
    loaded = np.asarray(resolved["time_s"]) > 0
    q_r, v_r = np.abs(np.asarray(resolved["capacity_Ah"]))[loaded], np.asarray(resolved["voltage_V"])[loaded]
    q_d, v_d = np.abs(np.asarray(dfn["capacity_Ah"])), np.asarray(dfn["voltage_V"])
    grid = np.linspace(max(q_r[0], q_d[0]), min(q_r[-1], q_d[-1]), points)
    difference = np.interp(grid, q_d, v_d) - np.interp(grid, q_r, v_r)
    return {"capacity_resolved_Ah": float(q_r[-1]), "capacity_dfn_Ah": float(q_d[-1]),
            "capacity_difference": float((q_d[-1] - q_r[-1]) / q_r[-1]),
            "voltage_rms_difference_V": float(np.sqrt(np.mean(difference ** 2))),
            "voltage_max_difference_V": float(np.max(np.abs(difference))),
            "grid_Ah": grid.tolist(), "difference_V": difference.tolist()}


def write_dfn_csv(path, curve: dict) -> Path:
    """dfn_voltage.csv: time_s, current_A, voltage_V, capacity_Ah of the DFN run."""
    import csv

    path = Path(path)
    columns = ("time_s", "current_A", "voltage_V", "capacity_Ah")
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(zip(*(curve[c] for c in columns)))
    return path


def plot_comparison(path, resolved: dict | None, dfn: dict, comparison: dict | None, title: str = "") -> Path:
    """PNG: the voltage curves [V] against capacity [mAh] (resolved and DFN) and, with a resolved curve,
    the difference V_dfn - V_resolved [mV] below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = 2 if resolved is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(5.5, 2.4 + 2.2 * rows), dpi=120, sharex=True, squeeze=False)
    top = axes[0, 0]
    if resolved is not None:
        top.plot(np.abs(resolved["capacity_Ah"]) * 1e3, resolved["voltage_V"], "-o", ms=2, label="resolved (femiec)")
    top.plot(np.abs(dfn["capacity_Ah"]) * 1e3, dfn["voltage_V"], "-", label="DFN (PyBaMM)")
    top.set_ylabel("cell voltage (V vs Li/Li$^+$)")
    top.legend()
    top.grid(True, alpha=0.3)
    top.set_title(title)
    if resolved is not None:
        bottom = axes[1, 0]
        bottom.plot(np.asarray(comparison["grid_Ah"]) * 1e3, np.asarray(comparison["difference_V"]) * 1e3, "-")
        bottom.set_ylabel("V$_{DFN}$ - V$_{resolved}$ (mV)")
        bottom.grid(True, alpha=0.3)
    axes[-1, 0].set_xlabel("capacity (mAh)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


# ------------------------------------------------------------------------------------------ command
def export_case(case, out_dir, run_dir=None, comm=None, points: int = 30, transport_scheme: str = "resolved",
                radius: str = "lag_kinetics") -> dict:
    """``femiec dfn``: dfn_parameters.json of an electrode case in ``out_dir`` (the effective transport of
    ``transport_scheme``, :func:`microstructure`; the particle radius ``radius``, :data:`PARTICLE_RADII`)
    and, with PyBaMM installed,
    the DFN run to the case's cut-off (dfn_voltage.csv, dfn_voltage.png; with ``run_dir``, a femiec run's
    output directory, the two curves and their difference, and dfn_comparison.json). Collective for the
    parameters; rank 0 runs PyBaMM and writes. Returns the summary (on rank 0; None elsewhere)."""
    from femiec.io.voltage_curve import read_voltage_csv

    from mpi4py import MPI

    comm = comm if comm is not None else MPI.COMM_WORLD
    resolved = None
    if run_dir is not None:
        csv_path = Path(run_dir) / "voltage.csv"
        if not csv_path.is_file():
            raise InputError("--run-dir", str(run_dir), "the output directory of a femiec run (with voltage.csv)")
        try:
            resolved = read_voltage_csv(csv_path)
        except ValueError as exc:
            raise InputError("--run-dir", str(csv_path), str(exc)) from None
    if radius not in PARTICLE_RADII:
        raise InputError("--radius", radius, f"one of {list(PARTICLE_RADII)}")
    parameters = dfn_parameters(case.model, case_microstructure(case, comm, transport_scheme), radius)
    if comm.rank != 0:
        return None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_parameters(out_dir / "dfn_parameters.json", parameters)
    g = parameters["geometry"]
    summary = {"parameters": str(out_dir / "dfn_parameters.json"),
               "capacity_nominal_Ah": parameters["derived"]["capacity_Ah"],
               **{k: g[k] for k in ("transport_scheme", "transport_discretisation", "electrolyte_transport_resolved",
                                    "electrolyte_transport_fv", "solid_conductivity_resolved_S_m",
                                    "solid_conductivity_fv_S_m")},
               "particle_radius": radius,
               "particle_radius_m": parameters["parameters"]["Positive particle radius [m]"]["value"],
               **{f"particle_radius_{name}_m": g[key] for name, (key, _) in PARTICLE_RADII.items()}}
    try:
        require_pybamm()
    except MissingDependencyError as exc:
        summary["dfn"] = f"not run: {exc}"
        return summary
    curve = run_dfn(parameters, points)
    write_dfn_csv(out_dir / "dfn_voltage.csv", curve)
    summary.update(dfn_voltage_csv=str(out_dir / "dfn_voltage.csv"), capacity_dfn_Ah=abs(curve["capacity_Ah"][-1]))
    comparison = compare_curves(resolved, curve) if resolved is not None else None
    if comparison is not None:
        kept = {k: v for k, v in comparison.items() if k not in ("grid_Ah", "difference_V")}
        (out_dir / "dfn_comparison.json").write_text(json.dumps(kept, indent=1))
        summary.update(kept)
    plot = plot_comparison(out_dir / "dfn_voltage.png", resolved, curve, comparison,
                           title=f"{case.case.name}: resolved vs DFN" if resolved is not None else case.case.name)
    summary["dfn_voltage_png"] = str(plot)
    return summary

"""Diffusion-lag radius of the active particles of a labelled image: the radius of the sphere whose
volume-averaged diffusion lag equals that of the resolved particle (femiec.studies.dfn, radii "lag_flux"
and "lag_concentration"; docs/resolved_vs_homogenized.md).

Under a constant current a particle reaches a quasi-steady profile in which every point is filled at the
same rate s [mol/(m^3 s)]; the lag u = c - c_ref [mol/m^3] then solves

    -D lap(u) = s  in the particle,   -D grad(u) . n = 0 on its faces that touch no electrolyte
                                       (particle-particle, particle-binder, box faces),

with one of two conditions on its reactive faces Gamma (the faces it shares with connected electrolyte):

    "concentration": u = 0 on Gamma (uniform surface concentration: fast kinetics), lag <u>;
    "flux":          -D grad(u) . n = w s V_c / A_c on Gamma (uniform flux per reactive area: slow kinetics),
                     lag <u> - <u>_Gamma, <u>_Gamma = int_Gamma w u dA / int_Gamma w dA the area-weighted
                     surface mean, w the area weight of ``reactive_area`` (1 for "voxel", the smooth weights
                     of femiec.meshing.interface_area for "smooth"), V_c and A_c = int w dA the volume and
                     reactive area of the mesh component c (the particles its nodes join);
    "kinetics":      -D grad(u) . n = w k u on Gamma (linearised kinetics: u = c_eq - c, c_eq the
                     concentration in equilibrium with the electrode potential, k [m/s] the transfer
                     coefficient, ``kinetic_length`` l = D / k [m]), lag <u> - s l V_p / (D A_p): the whole
                     offset less its kinetic part, which the DFN carries in its overpotential (an exact split
                     for a sphere); l -> 0 gives "concentration", l -> infinity "flux".

A sphere of radius R has (both conditions) u - u_Gamma = s (R^2 - r^2) / (6 D) and a lag s R^2 / (15 D),
so the diffusion-lag radius of a particle p is

    R_p = sqrt(15 D lag_p / s)  [m],

independent of D and s (solved with D = s = 1 in m). Oracles (tests/unit/test_dfn_radius.py): a sphere
gives R_p -> R; a slab of thickness L fed through one face has u - u_Gamma = s x (2L - x) / (2D) with x
the distance from that face, lag s L^2 / (3 D) and R_p = sqrt(5) L (3 V_p / A_p gives 3 L).

The electrode's radius R: its particles are in parallel at one electrode potential. Per unit filling rate
a particle's offset from equilibrium is r_p = l V_p / A_p + R_p^2 / 15 (kinetic part, diffusion lag; times
s/D), so the electrode fills at the rate of r = sum_p V_p / sum_p (V_p / r_p), and one sphere of the
electrode's area A = sum_p A_p does the same when l V / A + R^2 / 15 = r (V = sum_p V_p):

    R^2 = 15 (sum_p V_p / sum_p (V_p / r_p) - l V / A)                                        [m^2]

with l the condition's kinetic length: 0 for "concentration" (R^2 = V / sum_p (V_p / R_p^2)), infinity for
"flux" (R^2 = V / A^2 sum_p A_p^2 R_p^2 / V_p, the limit), ``kinetic_length`` for "kinetics". Which condition
the resolved run is nearer is the Biot number of the linearised kinetics, Bi = L / l
(docs/resolved_vs_homogenized.md).

The problem is the resolved electrode's discretisation of the solid: Q1 elements on the voxel mesh of the
particles with the case's ``mesh.connectivity``. "concentration" holds u = 0 at the nodes of Gamma; "flux"
is a pure Neumann problem, made unique by u = 0 at one node of each mesh component (its lag does not
depend on the node). Weak form: femiec.forms.conduction, the face weights femiec.forms.face_weights.

Ranks: the problem is set up on x-planes (femiec.meshing.rank_planes), cut by the particle voxels as
femiec.meshing.voxel.voxel_mesh cuts a whole image: each rank weights the reactive faces of its cells (owned
and ghost), labels the mesh components on its owned planes (joined across the ranks:
femiec.meshing.slab_clusters), sums their volumes and areas over the ranks and pins, for "flux", the first
voxel in C order of the whole image of each component. Given the planes of an image (``planes``) a rank
holds only its planes and their halo; given whole arrays every rank keeps them (the numbers are the same).
"""
from __future__ import annotations

import numpy as np
from petsc4py import PETSc

#: conditions on the reactive faces (module docstring; "kinetics" with a kinetic length only)
SURFACE_CONDITIONS = ("flux", "concentration", "kinetics")
#: relative residual of the CG solve (the radii to ~1e-10, the same on any number of ranks)
LAG_RTOL = 1e-12
#: image values of the mesh of the lag problem: the particles (meshed), the connected electrolyte (their
#: reactive faces) and anything else
_PARTICLE, _PORE, _OTHER = 1, 2, 0


def diffusion_lag(particles: np.ndarray, pore: np.ndarray, active: np.ndarray, voxel_size, comm=None,
                  connectivity: str = "vertex", reactive_area: str = "smooth",
                  kinetic_length: float | None = None, planes=None) -> dict:
    """Volume-averaged lag of each particle for both surface conditions (module docstring).

    ``particles``: labels [ix, iy, iz] (0: not a particle, 1..n the particles, each sharing a face with
    ``pore``); ``pore``: mask of the connected electrolyte; ``active``: mask of the active material (the
    smooth area weights are those of its surface, as the resolved electrode's); the three either of the
    whole image (the same on every rank) or, with ``planes`` (a :class:`femiec.meshing.rank_planes.RankPlanes`
    with at least :func:`femiec.problems.electrode_planes.electrode_halo` halo planes), over the planes this
    rank keeps of it, halo filled: then no rank holds more than its planes (module docstring); ``voxel_size``
    [m]; the Q1 voxel mesh of ``connectivity``; ``reactive_area`` "smooth" or "voxel"; ``kinetic_length``
    D/k [m] for the "kinetics" condition (left out without it). Collective on ``comm``; every
    rank returns the same dict: ``volume_m3`` (V_p), ``area_m2`` (A_p, weighted), and per condition
    ``radius_<condition>_m`` (R_p, in label order) and ``radius_<condition>_m_overall`` (the electrode's R,
    :func:`electrode_radius`) [m]."""
    import ufl
    from dolfinx import fem
    from dolfinx.mesh import compute_midpoints
    from mpi4py import MPI

    from femiec.forms.face_weights import picked_face_weight
    from femiec.meshing.interface_area import face_area_weights, phase_faces
    from femiec.meshing.rank_planes import read_rank_planes
    from femiec.meshing.slab_clusters import label_clusters
    from femiec.meshing.voxel import interface_tag, voxel_mesh, voxel_spacing

    comm = comm if comm is not None else MPI.COMM_WORLD
    spacing = voxel_spacing(voxel_size)
    image = np.full(particles.shape, _OTHER, dtype=np.uint8)
    image[pore] = _PORE
    image[particles > 0] = _PARTICLE
    if planes is None:  # the whole image on every rank: all its planes kept, owned planes cut by the particles
        planes = read_rank_planes(image, comm, [_PARTICLE], halo=image.shape[0], require_phases=False)
    else:
        planes, particles, pore, active = _particle_planes(planes, image, particles, pore, active, spacing, comm)
    del image
    count = comm.allreduce(int(particles.max()) if particles.size else 0, op=MPI.MAX)
    inside = particles > 0
    start, (i0, i1) = planes.start, planes.own
    # the reactive faces of the particle voxels of this rank's cells (owned planes and one on each side):
    # lower voxel, axis, the particle voxel, its face index, area weight (indices in the planes kept)
    a, b = max(i0 - 2, start) - start, min(i1 + 2, start + len(inside)) - start
    lower, axis = phase_faces(inside[a:b])
    lower[:, 0] += a
    upper = lower.copy()
    upper[np.arange(len(axis)), axis] += 1
    lower_in = inside[tuple(lower.T)]
    other = np.where(lower_in[:, None], upper, lower)
    voxel = np.where(lower_in[:, None], lower, upper)
    plane = voxel[:, 0] + start
    reactive = pore[tuple(other.T)] & (plane >= i0 - 1) & (plane <= i1)
    lower, axis, lower_in, voxel = lower[reactive], axis[reactive], lower_in[reactive], voxel[reactive]
    owned_face = (voxel[:, 0] + start >= i0) & (voxel[:, 0] + start < i1)  # each face once over the ranks
    face = 2 * axis + lower_in  # the +axis face of the particle voxel when it is the lower one
    weight = face_area_weights(active, lower, axis, spacing) if reactive_area == "smooth" else np.ones(len(axis))
    face_area = np.array([spacing[1] * spacing[2], spacing[0] * spacing[2], spacing[0] * spacing[1]])[axis]
    # mesh components: the particles the Q1 nodes join (26-connected for "vertex", 6-connected for "face"),
    # joined across the ranks (femiec.meshing.slab_clusters)
    labels, clusters = label_clusters(inside[i0 - start:i1 - start], comm, connectivity)
    component = np.zeros(inside.shape, dtype=np.int64)
    component[i0 - start:i1 - start] = clusters.component[labels]
    planes.fill_halo(component, comm)
    components = int(clusters.component.max()) + 1  # the background is component 0
    owned_component = component[i0 - start:i1 - start]
    component_volume = comm.allreduce(np.bincount(owned_component.ravel(), minlength=components)) * np.prod(spacing)
    component_area = comm.allreduce(np.bincount(component[tuple(voxel[owned_face].T)],
                                                weights=(weight * face_area)[owned_face], minlength=components))
    # the first voxel in C order of the whole image of each component (its first cell's first vertex is
    # pinned for the "flux" condition)
    first = np.full(components, np.iinfo(np.int64).max, dtype=np.int64)
    ijk = np.argwhere(labels > 0)
    ijk[:, 0] += i0
    np.minimum.at(first, owned_component[labels > 0], np.ravel_multi_index(tuple(ijk.T), planes.shape))
    comm.Allreduce(MPI.IN_PLACE, first, op=MPI.MIN)
    del labels, ijk, owned_component

    meshdata = voxel_mesh(planes, [_PARTICLE], spacing, comm, connectivity=connectivity)
    mesh = meshdata.mesh
    cmap = mesh.topology.index_map(3)
    cells = np.arange(cmap.size_local + cmap.num_ghosts, dtype=np.int32)
    cell_voxel = np.floor(compute_midpoints(mesh, 3, cells) / spacing).astype(np.int64)
    cell_voxel[:, 0] -= start  # in the planes kept
    cell_of_voxel = np.full(inside.size, -1, dtype=np.int64)
    cell_of_voxel[np.ravel_multi_index(tuple(cell_voxel.T), inside.shape)] = cells
    DG = fem.functionspace(mesh, ("DG", 0))
    W = fem.Function(fem.functionspace(mesh, ("DG", 0, (6,))))  # area weight of each reactive face
    g = fem.Function(DG)  # V_c / A_c of the cell's component [m]
    g.x.array[DG.dofmap.list[cells, 0]] = (component_volume / np.maximum(component_area, 1e-300))[
        component[tuple(cell_voxel.T)]]
    face_cell = cell_of_voxel[np.ravel_multi_index(tuple(voxel.T), inside.shape)]
    here = face_cell >= 0
    W.x.array[6 * W.function_space.dofmap.list[face_cell[here], 0] + face[here]] = weight[here]

    V = fem.functionspace(mesh, ("Lagrange", 1))
    u = ufl.TrialFunction(V)
    tag = interface_tag(_PARTICLE, _PORE)
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=meshdata.facet_tags)
    dx = ufl.Measure("dx", domain=mesh)
    w = picked_face_weight(W, ufl.FacetNormal(mesh))
    v0 = ufl.TestFunction(DG)
    owned = cells[: cmap.size_local]
    label = particles[tuple(cell_voxel[: cmap.size_local].T)]

    def per_particle(integrand) -> np.ndarray:
        """sum over the owned cells of each particle of the cell-wise integral (index 0: no particle)."""
        values = fem.assemble_vector(fem.form(integrand)).array[DG.dofmap.list[owned, 0]]
        return comm.allreduce(np.bincount(label, weights=values, minlength=count + 1), op=MPI.SUM)

    volume = per_particle(v0 * dx)
    area = per_particle(w * v0 * ds(tag))
    result = {"volume_m3": volume[1:], "area_m2": area[1:]}
    lengths = {"flux": np.inf, "concentration": 0.0, "kinetics": kinetic_length}
    for condition in SURFACE_CONDITIONS:
        if condition == "kinetics" and kinetic_length is None:
            continue
        bc, flux = [], None
        if condition == "concentration":
            bc = [fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 2, meshdata.facet_tags.find(tag)), V)]
        elif condition == "kinetics":
            flux = {tag: w * u / kinetic_length}
        else:  # u = 0 at the first vertex of the first cell of every component
            first_ijk = np.array(np.unravel_index(first[1:], planes.shape)).T.reshape(-1, 3)
            first_ijk[:, 0] -= start
            kept = (first_ijk[:, 0] >= 0) & (first_ijk[:, 0] < len(inside))
            pinned = cell_of_voxel[np.ravel_multi_index(tuple(first_ijk[kept].T), inside.shape)]
            pinned = pinned[(pinned >= 0) & (pinned < cmap.size_local)]
            mesh.topology.create_connectivity(3, 0)
            mesh.topology.create_connectivity(0, 3)
            c2v = mesh.topology.connectivity(3, 0)
            vertices = np.array([c2v.links(c)[0] for c in pinned], dtype=np.int32)
            bc = [fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 0, vertices), V)]
            flux = {tag: g * w}
        lag = _solve(V, dx, ds, bc, flux, u)
        mean = per_particle(lag * v0 * dx)[1:] / volume[1:]
        if condition == "flux":
            mean = mean - per_particle(w * lag * v0 * ds(tag))[1:] / area[1:]
        elif condition == "kinetics":
            mean = mean - kinetic_length * volume[1:] / area[1:]
        # a particle whose nodes the mesh joins to a larger one ("vertex") shares its lag: with linearised
        # kinetics its own kinetic part l V_p / A_p may exceed <u>_p, and R_p is then 0
        result[f"radius_{condition}_m"] = np.sqrt(15 * np.maximum(mean, 0))
        result[f"radius_{condition}_m_overall"] = electrode_radius(volume[1:], area[1:], mean, lengths[condition])
    return result


def _particle_planes(planes, image: np.ndarray, particles: np.ndarray, pore: np.ndarray, active: np.ndarray,
                     spacing, comm) -> tuple:
    """(planes of the lag problem's ``image``, ``particles``, ``pore``, ``active``): the four, given over the
    planes kept of ``planes``, over the planes cut anew by the particle voxels (as :func:`diffusion_lag`
    cuts a whole image: femiec.meshing.rank_planes.read_rank_planes), their halo filled from the owners.
    InputError for a halo below the smooth area weights' reach. Collective."""
    from mpi4py import MPI

    from femiec.problems.electrode_planes import check_halo

    check_halo(planes, spacing)
    start, (i0, i1) = planes.start, planes.own
    own = image[i0 - start:i1 - start]
    counts = np.zeros(planes.shape[0], dtype=np.int64)
    counts[i0:i1] = np.count_nonzero(own == _PARTICLE, axis=(1, 2))
    histogram = np.bincount(own.ravel(), minlength=256).astype(np.int64)
    comm.Allreduce(MPI.IN_PLACE, counts, op=MPI.SUM)
    comm.Allreduce(MPI.IN_PLACE, histogram, op=MPI.SUM)
    moved = [planes.repartitioned(array, counts, histogram, comm) for array in (image, particles, pore, active)]
    return (moved[0], *(m.data for m in moved[1:]))


def electrode_radius(volume: np.ndarray, area: np.ndarray, lag: np.ndarray, kinetic_length: float) -> float:
    """R [m] of one sphere that fills like the particles in parallel (module docstring): ``volume`` V_p
    [m^3], ``area`` A_p [m^2], ``lag`` R_p^2 / 15 [m^2], ``kinetic_length`` l [m] (0 or inf for the limits);
    the offsets r_p = l V_p / A_p + lag_p are <u>_p of the "kinetics" solve."""
    V, A = np.sum(volume), np.sum(area)
    if np.isinf(kinetic_length):
        return float(np.sqrt(15 * V / A ** 2 * np.sum(area ** 2 * lag / volume)))
    offset = kinetic_length * volume / area + lag
    return float(np.sqrt(15 * (V / np.sum(volume / offset) - kinetic_length * V / A)))


def _solve(V, dx, ds, bcs, outward_fluxes, u):
    """u of -lap(u) = 1 with ``bcs`` and the outward fluxes (femiec.forms.conduction; linear in the trial
    function ``u``), by CG + BoomerAMG."""
    import ufl
    from dolfinx import fem
    from dolfinx.fem import petsc

    from femiec.forms.conduction import conduction_residual
    from femiec.homogenization.ksp import create_solver, solve

    v = ufl.TestFunction(V)
    F = conduction_residual(ufl.as_ufl(1.0), u, v, dx, source=ufl.as_ufl(1.0), ds=ds, outward_fluxes=outward_fluxes)
    a, L = fem.form(ufl.lhs(F)), fem.form(ufl.rhs(F))
    A = petsc.assemble_matrix(a, bcs=bcs)
    A.assemble()
    b = petsc.assemble_vector(L)
    petsc.apply_lifting(b, [a], bcs=[bcs])
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    petsc.set_bc(b, bcs)
    lag = fem.Function(V)
    ksp = create_solver(A, LAG_RTOL, {"ksp_max_it": 5000})
    solve(ksp, b, lag.x.petsc_vec)
    lag.x.scatter_forward()
    ksp.destroy(), A.destroy(), b.destroy()
    return lag

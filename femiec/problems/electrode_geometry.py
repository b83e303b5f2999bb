"""Geometry of the resolved electrode: phase markers per cell, the reaction interface Gamma, the separator
and collector facets, one submesh per phase with its entity maps, the collector condition and the particle
labels (a part of :class:`femiec.problems.electrode.ElectrodeProblem`, kept in its own module).

Cells: ELECTROLYTE (pores and the porous separator layer), ACTIVE (particles), CONDUCTOR (carbon-binder),
INERT (cut-off clusters). Facets: REACTION (electrolyte/active interior facets, ordered so that "+" is the
electrolyte cell), SEPARATOR (box-face facets of electrolyte cells where the current enters), COLLECTOR
(box-face facets of solid cells held at phi_s = 0).

Reactive area (``reactive_area``): on a voxel mesh Gamma is a staircase of voxel faces, about 3/2 times
the area of the smooth surface the image samples. Each face f of Gamma gets the weight w_f of
:mod:`femiec.meshing.interface_area` (sum_f w_f |f| -> the smooth area), held per active cell in a DG0
function with one value per cell face (6 components: -x, +x, -y, +y, -z, +z) and picked on Gamma by the
active cell's outward normal n ("-" side):

    w = sum_k W_(2k+1) max(n_k, 0) + W_(2k) max(-n_k, 0)

With ``reactive_area = "smooth"`` (the case file's default on a voxel mesh) every integral over Gamma
(reaction, double-layer charging, Stern charge) carries w, i.e. the interface's area element is w dS; with
"voxel" it is dS, the staircase. Other meshes have no image and their facets are the interface: only
"voxel" (their default) is accepted. On an image read by planes (``meshdata.planes``) a rank needs only its
planes and a halo of femiec.problems.electrode_planes.electrode_halo planes (7 on cubic voxels).
"""
from __future__ import annotations

import numpy as np
import ufl

from femiec.errors import InputError
from femiec.meshing.base import bounding_box
from femiec.problems.electrode_phases import SolidConductor

#: phase markers of the problem's own cell tags
ELECTROLYTE, ACTIVE, CONDUCTOR, INERT = 1, 2, 3, 4
#: markers of the problem's own facet tags
REACTION, SEPARATOR, COLLECTOR = 1, 2, 3
#: phase markers of each submesh (the fields of the phase models live on these)
PHASE_MESHES = {"electrolyte": (ELECTROLYTE,), "active": (ACTIVE,), "solid": (ACTIVE, CONDUCTOR)}
#: values of ``reactive_area``: the staircase of voxel faces, or the faces weighted to the smooth area
REACTIVE_AREAS = ("voxel", "smooth")


def is_voxel_mesh(meshdata) -> bool:
    """True for a hexahedral mesh built from an image (one cell per voxel, ``meshdata.image`` or its
    ``planes`` kept), or the mesh-free outline of one (femiec.meshing.image_outline): voxel meshes are the
    only meshes built from an image."""
    return meshdata.from_image


def reactive_area_for(reactive_area: str | None, voxel_mesh: bool) -> str:
    """The reactive area a case runs with: ``reactive_area`` when given, else (None, the case file's
    default) "smooth" on a voxel mesh and "voxel" (the facets as meshed, the mesh's own area) on others."""
    if reactive_area is not None:
        return reactive_area
    return "smooth" if voxel_mesh else "voxel"


def check_reactive_area(reactive_area: str, meshdata) -> None:
    """InputError (``model.reactive_area``) unless it is "voxel", or "smooth" on a voxel mesh."""
    if reactive_area not in REACTIVE_AREAS:
        raise InputError("model.reactive_area", reactive_area, f"one of {list(REACTIVE_AREAS)}")
    if reactive_area == "smooth" and not is_voxel_mesh(meshdata):
        raise InputError("model.reactive_area", reactive_area, "'voxel' on a mesh that is not a voxel mesh (its "
                         "facets are the interface; 'smooth' corrects the staircase of a voxel mesh)")


class PhaseGeometry:
    """Geometry stages of the electrode problem (uses its ``mesh``, ``meshdata``, ``regions``,
    ``porous_separator``, ``separator``, ``collector``)."""

    def _mark_phases(self, inert_cells) -> None:
        """The problem's own cell tags (phase markers) and facet tags (reaction, separator, collector)."""
        from dolfinx import mesh as dmesh

        from femiec.meshing.submeshes import interface_integration_data

        tdim = self.mesh.topology.dim
        cmap = self.mesh.topology.index_map(tdim)
        num_cells = cmap.size_local + cmap.num_ghosts
        phase = np.full(num_cells, INERT, dtype=np.int32)
        tags = self.meshdata.cell_tags
        for marker, names in self.regions.items():
            for name in names:
                phase[tags.indices[tags.values == self.meshdata.cell_tag(name)]] = marker
        in_layer = np.zeros(num_cells, dtype=bool)
        for name in self.porous_separator.regions:
            in_layer[tags.indices[tags.values == self.meshdata.cell_tag(name)]] = True
        phase[in_layer] = ELECTROLYTE
        if inert_cells is not None:
            phase[np.asarray(inert_cells, dtype=np.int32)] = INERT
        self.phase = phase
        self.in_separator_layer = in_layer & (phase == ELECTROLYTE)
        self.cell_tags = dmesh.meshtags(self.mesh, tdim, np.arange(num_cells, dtype=np.int32), phase)

        fdim = tdim - 1
        self.mesh.topology.create_entities(fdim)
        self.mesh.topology.create_connectivity(fdim, tdim)
        f2c = self.mesh.topology.connectivity(fdim, tdim)
        fmap = self.mesh.topology.index_map(fdim)
        num_facets = fmap.size_local + fmap.num_ghosts
        counts = np.diff(f2c.offsets)
        first = phase[f2c.array[f2c.offsets[:-1]]]
        second = np.where(counts == 2, phase[f2c.array[np.minimum(f2c.offsets[:-1] + 1, len(f2c.array) - 1)]], INERT)
        pair = np.sort(np.stack([first, second]), axis=0)
        marker = np.zeros(num_facets, dtype=np.int32)
        marker[(counts == 2) & (pair[0] == ELECTROLYTE) & (pair[1] == ACTIVE)] = REACTION
        ftags = self.meshdata.facet_tags
        # a box-face facet belongs to the separator (collector) when its cell is electrolyte (solid)
        on_boundary = lambda names: ftags.indices[np.isin(ftags.values, [self.meshdata.facet_id(n) for n in names])]
        sep = on_boundary(self.separator)
        marker[sep[first[sep] == ELECTROLYTE]] = SEPARATOR
        facet_collector = [n for n in self.collector if not (isinstance(n, str) and n in self.meshdata.cell_names)]
        if facet_collector:
            col = on_boundary(facet_collector)
            marker[col[np.isin(first[col], (ACTIVE, CONDUCTOR))]] = COLLECTOR
        keep = np.flatnonzero(marker).astype(np.int32)
        self.facet_tags = dmesh.meshtags(self.mesh, fdim, keep, marker[keep])
        self.interface = interface_integration_data(self.mesh, np.flatnonzero(marker == REACTION),
                                                    phase == ELECTROLYTE)
        comm = self.mesh.comm
        owned = np.zeros(num_facets, dtype=bool)
        owned[: fmap.size_local] = True
        for what, key, value in ((REACTION, "model.active_regions", "electrolyte/active-material interface facets"),
                                 (SEPARATOR, "model.separator", "separator facets touching the electrolyte")):
            if comm.allreduce(int(np.sum((marker == what) & owned))) == 0:
                raise InputError(key, self.regions[ACTIVE] if what == REACTION else self.separator, value)

    def _reactive_area_weights(self) -> None:
        """``face_weights`` (DG0, 6 values per cell: w_f of each face of an active cell on Gamma, 1
        elsewhere; None without an image), ``smooth_area_weight`` (w on Gamma, UFL; None without an image)
        and ``area_weight``, the one the interface integrals carry (1 for "voxel")."""
        from dolfinx import fem

        from femiec.forms.face_weights import picked_face_weight
        from femiec.meshing.interface_area import face_area_weights
        from femiec.meshing.voxel import facet_voxels

        self.area_weight, self.face_weights, self.smooth_area_weight = ufl.as_ufl(1.0), None, None
        if not is_voxel_mesh(self.meshdata):
            return
        tdim = self.mesh.topology.dim
        f2c = self.mesh.topology.connectivity(tdim - 1, tdim)
        facets = self.facet_tags.find(REACTION)  # owned and ghost: every rank sets the cells it integrates
        cells = f2c.array[f2c.offsets[facets][:, None] + np.arange(2)]
        active = np.where(self.phase[cells[:, 0]] == ACTIVE, cells[:, 0], cells[:, 1])
        spacing = np.asarray(self.meshdata.info["voxel_size_m"], dtype=float)
        values = [self.meshdata.cell_tag(n) for n in self.regions[ACTIVE]]
        axis, lower = facet_voxels(self.mesh, facets, spacing)
        planes = self.meshdata.planes
        if planes is None:
            mask = np.isin(self.meshdata.image, values)
        else:  # this rank's planes and their halo (femiec.problems.electrode_planes)
            from femiec.problems.electrode_planes import check_halo

            check_halo(planes, spacing)
            mask = planes.selection(values)
            lower = lower - np.array([planes.start, 0, 0])
        # the active voxel is the lower one: the facet is its +axis face (component 2k + 1)
        component = 2 * axis + mask[tuple(lower.T)].astype(np.int64)
        space = fem.functionspace(self.mesh, ("DG", 0, (6,)))
        self.face_weights = fem.Function(space, name="face_area_weight")
        self.face_weights.x.array[:] = 1.0
        dofs = space.dofmap.list[active, 0]
        self.face_weights.x.array[6 * dofs + component] = face_area_weights(mask, lower, axis, spacing)
        n, W = ufl.FacetNormal(self.mesh)("-"), self.face_weights("-")
        self.smooth_area_weight = picked_face_weight(W, n, tdim)
        if self.reactive_area == "smooth":
            self.area_weight = self.smooth_area_weight

    def _build_submeshes(self) -> None:
        """One mesh per phase (electrolyte, active, solid) and the entity maps of the forms
        (femiec.meshing.submeshes: the interface rows put the electrolyte cell on the "+" side, and the maps
        are padded across Gamma). The phase meshes are DOLFINx submeshes of the parent, or on a voxel mesh
        with ``connectivity = "face"`` face-connected meshes of the phase's voxels (femiec.meshing.phase_mesh:
        nodes split where two voxels of the phase touch only along an edge or at a corner)."""
        from femiec.meshing.phase_mesh import face_connected_phase_mesh
        from femiec.meshing.submeshes import padded_entity_map, phase_submesh

        face = is_voxel_mesh(self.meshdata) and self.meshdata.info.get("connectivity") == "face"
        electrolyte_cells, active_cells = self.interface[:, 0], self.interface[:, 2]
        self.submeshes, self.cell_maps, self.entity_maps = {}, {}, {}
        for name, markers in PHASE_MESHES.items():
            selected = np.isin(self.phase, markers)
            phase = (face_connected_phase_mesh(self.mesh, selected, self.meshdata.info["voxel_size_m"], name)
                     if face else phase_submesh(self.mesh, np.flatnonzero(selected), name))
            inside, across = ((electrolyte_cells, active_cells) if name == "electrolyte"
                              else (active_cells, electrolyte_cells))
            self.submeshes[name], self.cell_maps[name] = phase.mesh, phase.cell_map
            self.entity_maps[phase.mesh] = padded_entity_map(phase, inside, across)

    def _collector_condition(self) -> list:
        """[phi_s = 0] on the collector (facets of the solid, or whole cell regions)."""
        from dolfinx import fem

        tdim = self.mesh.topology.dim
        space = self.spaces[self.index(SolidConductor.potential)]
        solid = self.submeshes["solid"].topology
        collector_cells = [self.meshdata.cell_tag(n) for n in self.collector
                           if isinstance(n, str) and n in self.meshdata.cell_names]
        if collector_cells:
            tags = self.meshdata.cell_tags
            cells = self.cell_maps["solid"][tags.indices[np.isin(tags.values, collector_cells)]]
            solid.create_connectivity(tdim, tdim)
            dofs = fem.locate_dofs_topological(space, tdim, cells[cells >= 0])
        else:  # the solid mesh's facets of the collector (its cells share the parent's node order)
            from femiec.meshing.phase_mesh import PhaseMesh, phase_facets

            solid_phase = PhaseMesh(self.submeshes["solid"], self.cell_maps["solid"])
            facets = phase_facets(self.mesh, solid_phase, self.facet_tags.find(COLLECTOR))
            dofs = fem.locate_dofs_topological(space, tdim - 1, facets)
        held = self.mesh.comm.allreduce(int(np.sum(dofs < space.dofmap.index_map.size_local)))
        if held == 0:
            raise InputError("model.collector", self.collector, "facets or a region touching the solid phases")
        return [fem.dirichletbc(0.0, dofs, space)]

    def _length(self) -> float:
        """The largest edge of the mesh's bounding box [m]."""
        lo, hi = bounding_box(self.mesh)
        return float(np.max(hi - lo))

    def _label_particles(self, particle_labels) -> None:
        """Particle label of every owned active cell (0 elsewhere) and the ids of all particles."""
        tdim = self.mesh.topology.dim
        n_owned = self.mesh.topology.index_map(tdim).size_local
        if particle_labels is None:
            labels = np.zeros(len(self.phase), dtype=np.int64)
            tags = self.meshdata.cell_tags
            labels[tags.indices] = tags.values
        else:
            labels = np.asarray(particle_labels, dtype=np.int64)
        labels = np.where(self.phase == ACTIVE, labels, 0)[:n_owned]
        self.particle_label = labels
        ids = set().union(*self.mesh.comm.allgather(set(np.unique(labels[labels > 0]).tolist())))
        self.particle_ids = np.array(sorted(ids), dtype=np.int64)

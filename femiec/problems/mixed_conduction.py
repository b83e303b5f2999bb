"""Mixed ionic/electronic conduction between two contact faces: the two-rail transmission line, homogenised
or resolved, and its impedance in Gomadam's configurations I, II, III (see docs/mixed_conduction.md; forms
in :mod:`femiec.forms.mixed_conduction`).

Two potentials, phi1 (ionic phase) and phi2 (electronic phase) [V], coupled by the interface current
i = (phi2 - phi1)/R_ct + C_dl d(phi2 - phi1)/dt [A/m^2]:

- homogenised (no cell regions given): both potentials on the whole mesh (Lagrange P1 or P2), effective
  conductivities, the exchange a i per volume with the specific interface area a [1/m];
- resolved (ionic and electronic cell regions given): each potential on the DOLFINx submesh of its phase,
  the exchange on the interior facets between ionic and electronic cells (a "dS" integral on the parent
  mesh with entity maps, ionic cell on the "+" side; femiec.meshing.submeshes).

The electrode lies between a ``front`` face (x = 0 of the line, e.g. the separator side) and a ``back``
face (x = d). A configuration names the phase fed at the front and the phase held at phi = 0 at the back
(femiec.analytic.impedance.mixed_conduction_line, whose boundary conditions these are):

    I    current I enters the ionic phase at the front, the electronic phase is held at the back;
    II   current enters the electronic phase at the front, the electronic phase is held at the back;
    III  current enters the ionic phase at the front, the ionic phase is held at the back.

Every other part of the two faces and every other outer facet is insulating for both phases (so ions are
blocked at both faces in II, electrons in III). The control input is the current density I [A/m^2] per
total front area A (the fed phase's front facets carry the uniform current density I A / A_fed), the output
the voltage V = <phi_fed>_front - 0 (area average over the fed phase's front facets; the held phase is 0 at
the back), so Z = dV/dI [Ohm m^2] and the impedance study's Z in Ohm is that over A. The steady state is
rest (all potentials 0); the problem is linear.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import ufl

from femiec.errors import InputError
from femiec.forms.mixed_conduction import (capacitive_current, exchange_terms, faradaic_current,
                                           homogenised_residual, resolved_residual)
from femiec.problems.base import StagedProblem, global_integral

#: phase markers (cells of the problem's own cell tags; indices + 1 of the unknowns [phi1, phi2])
IONIC, ELECTRONIC = 1, 2
#: markers of each phase's contact facets and of the interface facets
FRONT, BACK, INTERFACE = 1, 2, 3
#: configuration -> (phase fed at the front, phase held at phi = 0 at the back)
CONFIGURATIONS = {"I": (IONIC, ELECTRONIC), "II": (ELECTRONIC, ELECTRONIC), "III": (IONIC, IONIC)}
PHASE_NAMES = {IONIC: "ionic", ELECTRONIC: "electronic"}


class MixedConductionProblem(StagedProblem):
    """Two-rail conduction with interface exchange on a tagged mesh (SI units; see the module docstring).

    Args:
        meshdata: :class:`femiec.meshing.base.MeshData`.
        ionic_conductivity, electronic_conductivity: sigma1, sigma2 [S/m] (effective values when
            homogenised, phase values when resolved).
        charge_transfer_resistance: R_ct [Ohm m^2] of the interface.
        double_layer_capacitance: C_dl [F/m^2] of the interface.
        specific_area: a [1/m], interface area per volume (homogenised only).
        ionic_regions, electronic_regions: cell-region names of the two phases (resolved; both or neither).
        front, back: facet names (or tags) of the faces x = 0 and x = d of the line.
        degree: Lagrange degree of the potentials (1 or 2).
        configuration: "I", "II" or "III" (the boundary conditions; :meth:`impedance_port` may change it).
    """

    #: PETSc options prefix of the steady solve (command line: ``-femiec_mixed_conduction_<option>``)
    options_prefix = "femiec_mixed_conduction_"

    def __init__(self, meshdata, *, ionic_conductivity: float, electronic_conductivity: float,
                 charge_transfer_resistance: float, double_layer_capacitance: float,
                 specific_area: float | None = None, ionic_regions: Sequence[str] = (),
                 electronic_regions: Sequence[str] = (), front="xmin", back="xmax", degree: int = 1,
                 configuration: str = "I"):
        self.meshdata, self.mesh = meshdata, meshdata.mesh
        self.regions = {IONIC: list(ionic_regions), ELECTRONIC: list(electronic_regions)}
        self.resolved = bool(self.regions[IONIC] or self.regions[ELECTRONIC])
        self.values = {"model.ionic_conductivity": ionic_conductivity,
                       "model.electronic_conductivity": electronic_conductivity,
                       "model.charge_transfer_resistance": charge_transfer_resistance,
                       "model.double_layer_capacitance": double_layer_capacitance}
        if not self.resolved:
            self.values["model.specific_area"] = specific_area
        self.front, self.back, self.degree = front, back, degree
        self._validate(specific_area)
        self._configure(configuration)
        self.build()

    # ------------------------------------------------------------------------------------ validation
    def _validate(self, specific_area) -> None:
        for key, value in self.values.items():
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise InputError(key, value, "a positive number (SI units)")
        if self.resolved:
            for marker, names in self.regions.items():
                if not names:
                    raise InputError(f"model.{PHASE_NAMES[marker]}_regions", [],
                                     "cell regions of both phases (resolved) or of neither (homogenised)")
                for name in names:
                    self.meshdata.cell_tag(name)
            if specific_area is not None:
                raise InputError("model.specific_area", specific_area,
                                 "no specific area with resolved phases (the interface facets give it)")
        if self.degree not in (1, 2):
            raise InputError("model.degree", self.degree, "1 or 2")
        for key, name in (("model.front", self.front), ("model.back", self.back)):
            self.meshdata.facet_id(name, key)

    def _configure(self, configuration: str) -> None:
        if configuration not in CONFIGURATIONS:
            raise InputError("configuration", configuration, f"one of {list(CONFIGURATIONS)}")
        self.configuration = configuration
        self.fed, self.held = CONFIGURATIONS[configuration]

    # --------------------------------------------------------------------------------------- stages
    def build_spaces(self) -> None:
        """Phase of every cell, the contact facets of each phase, the interface (resolved), one space per
        potential (on its phase's submesh when resolved) and the measures."""
        from dolfinx import fem

        tdim = self.mesh.topology.dim
        self.mesh.topology.create_connectivity(tdim - 1, tdim)
        self._mark_phases()
        self.contact_facets = {phase: {side: self._contact_facets(phase, name)
                                       for side, name in ((FRONT, self.front), (BACK, self.back))}
                               for phase in (IONIC, ELECTRONIC)}
        self.ds = {phase: ufl.Measure("ds", domain=self.mesh, subdomain_data=self._facet_tags(facets))
                   for phase, facets in self.contact_facets.items()}
        if self.resolved:
            self._build_submeshes()
            meshes = [self.submeshes[IONIC].mesh, self.submeshes[ELECTRONIC].mesh]
            self.dx = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.cell_tags)
            self.dS = ufl.Measure("dS", domain=self.mesh, subdomain_data=[(INTERFACE, self.interface.ravel())])
        else:
            meshes, self.entity_maps = [self.mesh, self.mesh], None
            self.dx = ufl.Measure("dx", domain=self.mesh)
        self.spaces = [fem.functionspace(m, ("Lagrange", self.degree)) for m in meshes]

    def _mark_phases(self) -> None:
        """Resolved only: the phase of every local cell (IONIC, ELECTRONIC, 0 outside both) as the problem's
        own cell tags, and the integration rows of the interior facets between ionic and electronic cells
        (ionic cell first)."""
        from dolfinx import mesh as dmesh

        from femiec.meshing.submeshes import interface_integration_data

        if not self.resolved:
            return
        tdim = self.mesh.topology.dim
        cmap = self.mesh.topology.index_map(tdim)
        num_cells = cmap.size_local + cmap.num_ghosts
        self.phase = np.zeros(num_cells, dtype=np.int32)
        tags = self.meshdata.cell_tags
        for marker, names in self.regions.items():
            for name in names:
                self.phase[tags.indices[tags.values == self.meshdata.cell_tag(name)]] = marker
        self.cell_tags = dmesh.meshtags(self.mesh, tdim, np.arange(num_cells, dtype=np.int32), self.phase)
        f2c = self.mesh.topology.connectivity(tdim - 1, tdim)
        counts = np.diff(f2c.offsets)
        first = self.phase[f2c.array[f2c.offsets[:-1]]]
        second = self.phase[f2c.array[np.minimum(f2c.offsets[:-1] + 1, len(f2c.array) - 1)]]
        between = np.flatnonzero((counts == 2) & (np.minimum(first, second) == IONIC)
                                 & (np.maximum(first, second) == ELECTRONIC))
        self.interface = interface_integration_data(self.mesh, between, self.phase == IONIC)
        if self.mesh.comm.allreduce(len(self.interface)) == 0:
            raise InputError("model.ionic_regions", self.regions[IONIC],
                             "regions that share interior facets with model.electronic_regions")

    def _contact_facets(self, phase: int, name) -> np.ndarray:
        """Local facets of the face ``name`` whose cell belongs to ``phase`` (all of them when
        homogenised)."""
        tdim = self.mesh.topology.dim
        tags = self.meshdata.facet_tags
        facets = tags.indices[tags.values == self.meshdata.facet_id(name)]
        if not self.resolved:
            return facets
        f2c = self.mesh.topology.connectivity(tdim - 1, tdim)
        cells = np.array([f2c.links(f)[0] for f in facets], dtype=np.int32)
        return facets[self.phase[cells] == phase] if len(facets) else facets

    def _facet_tags(self, facets: dict):
        """Facet tags FRONT, BACK of one phase's contact facets."""
        from dolfinx import mesh as dmesh

        indices = np.concatenate([facets[FRONT], facets[BACK]]).astype(np.int32)
        values = np.concatenate([np.full(len(facets[FRONT]), FRONT), np.full(len(facets[BACK]), BACK)])
        order = np.argsort(indices)
        return dmesh.meshtags(self.mesh, self.mesh.topology.dim - 1, indices[order], values[order].astype(np.int32))

    def _build_submeshes(self) -> None:
        """One submesh per phase and the entity maps of the forms (padded across the interface)."""
        from femiec.meshing.submeshes import padded_entity_map, phase_submesh

        ionic, electronic = self.interface[:, 0], self.interface[:, 2]
        self.submeshes, self.entity_maps = {}, {}
        for marker, inside, across in ((IONIC, ionic, electronic), (ELECTRONIC, electronic, ionic)):
            phase = phase_submesh(self.mesh, np.flatnonzero(self.phase == marker), PHASE_NAMES[marker])
            self.submeshes[marker] = phase
            self.entity_maps[phase.mesh] = padded_entity_map(phase, inside, across)

    def build_coefficients(self) -> None:
        """The conductivities, the interface's R_ct and C_dl (and a, homogenised) as Constants."""
        from dolfinx import fem

        def constant(key):
            return fem.Constant(self.mesh, float(self.values[key])) if key in self.values else None

        self.sigma1, self.sigma2 = constant("model.ionic_conductivity"), constant("model.electronic_conductivity")
        self.charge_transfer_resistance = constant("model.charge_transfer_resistance")
        self.double_layer_capacitance = constant("model.double_layer_capacitance")
        self.specific_area = constant("model.specific_area")  # None when resolved

    def build_conditions(self) -> None:
        """phi_held = 0 on the held phase's back facets; rest (phi1 = phi2 = 0); the front current density
        (the control input, per total front area [A/m^2]) and the areas it is spread over."""
        from dolfinx import fem

        self.bcs = [fem.dirichletbc(0.0, self._held_dofs(), self.spaces[self.held - 1])]
        self.u = [fem.Function(V, name=f"{PHASE_NAMES[k]}_potential") for k, V in
                  zip((IONIC, ELECTRONIC), self.spaces)]
        self.current_density = fem.Constant(self.mesh, 0.0)
        front_total = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.meshdata.facet_tags)
        self.front_area = global_integral(fem.Constant(self.mesh, 1.0) * front_total(
            self.meshdata.facet_id(self.front)), self.mesh.comm)
        self.fed_area = global_integral(fem.Constant(self.mesh, 1.0) * self.ds[self.fed](FRONT), self.mesh.comm)
        if self.fed_area == 0:
            raise InputError("model.front", self.front, f"facets of the {PHASE_NAMES[self.fed]} phase")

    def _held_dofs(self) -> np.ndarray:
        """Dofs of the held phase's space on its back facets (mapped to its submesh when resolved)."""
        from dolfinx import fem

        tdim = self.mesh.topology.dim
        facets = self.contact_facets[self.held][BACK]
        space = self.spaces[self.held - 1]
        if self.resolved:
            facets = self._submesh_facets(self.held, facets)
        space.mesh.topology.create_connectivity(tdim - 1, tdim)
        dofs = fem.locate_dofs_topological(space, tdim - 1, facets)
        held = self.mesh.comm.allreduce(int(np.sum(dofs < space.dofmap.index_map.size_local)))
        if held == 0:
            raise InputError("model.back", self.back, f"facets of the {PHASE_NAMES[self.held]} phase")
        return dofs

    def _submesh_facets(self, phase: int, facets: np.ndarray) -> np.ndarray:
        """The submesh facets of ``phase`` that are the parent's ``facets`` (each found among the facets of
        the submesh cell of its parent cell by its vertices)."""
        tdim = self.mesh.topology.dim
        sub = self.submeshes[phase]
        self.mesh.topology.create_connectivity(tdim - 1, 0)
        sub.mesh.topology.create_connectivity(tdim, tdim - 1)
        sub.mesh.topology.create_connectivity(tdim - 1, 0)
        f2c, f2v = self.mesh.topology.connectivity(tdim - 1, tdim), self.mesh.topology.connectivity(tdim - 1, 0)
        c2f_sub, f2v_sub = sub.mesh.topology.connectivity(tdim, tdim - 1), sub.mesh.topology.connectivity(tdim - 1, 0)
        to_parent = np.full(sub.mesh.topology.index_map(0).size_local + sub.mesh.topology.index_map(0).num_ghosts,
                            -1, dtype=np.int64)
        to_parent[sub.vertex_map[sub.vertex_map >= 0]] = np.flatnonzero(sub.vertex_map >= 0)
        out = []
        for f in facets:
            vertices = set(f2v.links(f))
            for g in c2f_sub.links(sub.cell_map[f2c.links(f)[0]]):
                if set(to_parent[f2v_sub.links(g)]) == vertices:
                    out.append(g)
                    break
        return np.array(out, dtype=np.int32)

    def build_residual(self) -> None:
        """The steady residual [F1, F2] (:meth:`steady_residual`)."""
        self.residual = self.steady_residual()

    def steady_residual(self) -> list:
        """[F1, F2]: conduction in each phase, the faradaic exchange (phi2 - phi1)/R_ct and the current
        density fed into the fed phase at the front (outward flux -I A / A_fed)."""
        phi1, phi2 = self.u
        v1, v2 = (ufl.TestFunction(V) for V in self.spaces)
        fluxes = {IONIC: None, ELECTRONIC: None}
        fluxes[self.fed] = {FRONT: -self.current_density * self.front_area / self.fed_area}
        common = dict(ds1=self.ds[IONIC], ds2=self.ds[ELECTRONIC], outward_fluxes1=fluxes[IONIC],
                      outward_fluxes2=fluxes[ELECTRONIC])
        if self.resolved:
            exchange = faradaic_current(phi2("-") - phi1("+"), self.charge_transfer_resistance)
            return resolved_residual(self.sigma1, self.sigma2, phi1, phi2, v1, v2, self.dx(IONIC),
                                     self.dx(ELECTRONIC), self.dS(INTERFACE), exchange, **common)
        exchange = faradaic_current(phi2 - phi1, self.charge_transfer_resistance)
        return homogenised_residual(self.sigma1, self.sigma2, phi1, phi2, v1, v2, self.dx,
                                    self.specific_area * exchange, **common)

    def storage_residual(self, rates) -> list:
        """The storage forms [M1, M2] of the double layer, C_dl d(phi2 - phi1)/dt on the interface (a C_dl
        per volume when homogenised), for the rates ``rates`` = [d phi1/dt, d phi2/dt] (Functions)."""
        rate1, rate2 = rates
        v1, v2 = (ufl.TestFunction(V) for V in self.spaces)
        if self.resolved:
            current = capacitive_current(rate2("-") - rate1("+"), self.double_layer_capacitance)
            return exchange_terms(current, v1("+"), v2("-"), self.dS(INTERFACE))
        current = capacitive_current(rate2 - rate1, self.double_layer_capacitance)
        return exchange_terms(self.specific_area * current, v1, v2, self.dx)

    def voltage_form(self):
        """The output functional V = <phi_fed>_front [V] (area average over the fed phase's front facets;
        the held phase is 0 at the back)."""
        return self.u[self.fed - 1] / self.fed_area * self.ds[self.fed](FRONT)

    def build_solver(self) -> None:
        """The steady solve (linear: one Newton step with MUMPS)."""
        from femiec.solvers import NonlinearSolver

        self.solver = NonlinearSolver(self.residual, self.u, self.bcs, preset="direct", prefix=self.options_prefix,
                                      entity_maps=self.entity_maps)

    # ------------------------------------------------------------------------------------- solving
    def steady_voltage(self, current_density: float) -> float:
        """The steady voltage V [V] at the front current density I [A/m^2] (V/I: the DC resistance, Ohm m^2);
        the problem is left in that state."""
        self.current_density.value = float(current_density)
        self.solver.solve()
        return global_integral(self.voltage_form(), self.mesh.comm, self.entity_maps)

    def impedance_port(self, configuration: str | None = None):
        """The :class:`femiec.studies.impedance.ImpedancePort` of ``configuration`` (default: the present
        one) about rest: current-driven, input the front current density [A/m^2] (input_scale = the front
        area A), output :meth:`voltage_form`; Z in Ohm, ``Spectrum.area_specific`` in Ohm m^2."""
        from femiec.studies.impedance import ImpedancePort

        if configuration is not None and configuration != self.configuration:
            self._configure(configuration)
            self.build("conditions", "solver")
        for u in self.u:
            u.x.array[:] = 0.0
        self.current_density.value = 0.0

        def set_input(value: float) -> None:
            self.current_density.value = value

        kind = "resolved" if self.resolved else "homogenised"
        return ImpedancePort(
            residual=self.residual, unknowns=self.u, bcs=self.bcs, storage=self.storage_residual,
            set_input=set_input, input_value=0.0, input_step=1.0, output=self.voltage_form(), drive="current",
            entity_maps=self.entity_maps, input_scale=self.front_area, area=self.front_area,
            fields=lambda functions: {f"{PHASE_NAMES[k]}_potential": (functions[k - 1], "V") for k in (IONIC, ELECTRONIC)},
            description=f"mixed conduction ({kind}), configuration {self.configuration}: current into the "
                        f"{PHASE_NAMES[self.fed]} phase at {self.front}, {PHASE_NAMES[self.held]} phase held at "
                        f"{self.back}")

"""The blocking symmetric cell on an image phase: ionic conduction in the pores, double layer on the walls.

TauFactor's electrode-tortuosity experiment (Nguyen et al., npj Comput. Mater. 6 (2020) 123) on a
finite-element mesh. The pore cells (one or more cell regions) hold the electrolyte potential phi [V]:

    div(-kappa grad phi) = 0                                    in the pores,
    -kappa grad(phi) . n = C_dl d(phi)/dt [+ phi / R_ct]        on the walls (pore/solid facets),
    phi = V                                                     on the separator face (the input),

with the solid an ideal electronic conductor at phi_solid = 0 and every other outer facet of the pores
insulating (the far end of a pore that reaches the box face is therefore a closed, non-capacitive pore
bottom, as in de Levie's pore). kappa [S/m], C_dl [F/m^2], optional R_ct [Ohm m^2] (femiec.forms.blocking).

The walls are the interior facets of the mesh between a pore cell and any other cell: the mesh must hold
the solid too (e.g. a voxel mesh of the whole image). phi lives on a submesh of the pore cells; the forms
are integrated on the parent mesh with the padded entity map of femiec.meshing.submeshes (the electrode
problem's machinery), the pore cell on the "+" side of every wall facet.

The small-signal port (:meth:`BlockingCellProblem.impedance_port`) is voltage-driven: input V, output the
current I [A] into the cell through the separator. I is taken as the total wall current,

    I = d/dt int_walls C_dl phi dS + int_walls phi / R_ct dS    (frequency domain: i omega C_dl int phi + ...),

not as the flux int -kappa grad(phi) . n over the separator. For the Galerkin solution the two differ:
the wall integral is the residual of the discrete equations tested with v = 1 (the volume term vanishes
for a constant), i.e. the discrete charge balance of the cell and the consistent ("variational") flux
through the Dirichlet face, which converges like the energy (O(h^2p)); the pointwise gradient on the
separator converges only like O(h^p) and is biased on a coarse mesh. Z = V / I.

Pore clusters not connected to the separator carry no current; with capacitive walls they still have a
unique response at every omega > 0 (and none at omega = 0 without R_ct, where they float).
"""
from __future__ import annotations

import numpy as np

from femiec.errors import InputError
from femiec.forms.blocking import double_layer_charge, double_layer_storage, faradaic_wall_current, \
    pore_steady_residual
from femiec.problems.base import StagedProblem, global_integral

#: marker of the pore cells (cell measure) and of the wall facets (interior-facet measure)
PORE, WALL = 1, 1


class BlockingCellProblem(StagedProblem):
    """The blocking cell of the module docstring, built at the end of the constructor.

    Args:
        meshdata: ``femiec.meshing.base.MeshData`` holding the pore and the solid cells.
        pore_regions: cell-region names (or tags) of the pore phase.
        separator: facet tag (name or value) of the face where V is applied (only its facets on pore
            cells count).
        conductivity: ionic conductivity kappa of the pore electrolyte [S/m].
        capacitance: double-layer capacitance C_dl of the walls [F/m^2].
        charge_transfer_resistance: R_ct [Ohm m^2] in parallel with C_dl, or None (blocking walls).
        degree: Lagrange degree of phi (1 or 2).

    Geometry read off the mesh: ``area`` (of the separator face, both phases) [m^2], ``thickness``
    (volume / area, the cell's extent normal to a planar separator of a prismatic sample) [m],
    ``porosity`` (pore volume / volume) [-], ``wall_area`` [m^2].
    """

    options_prefix = "femiec_blocking_"

    def __init__(self, meshdata, pore_regions, separator, conductivity: float, capacitance: float,
                 charge_transfer_resistance: float | None = None, degree: int = 1):
        for key, value in (("conductivity", conductivity), ("capacitance", capacitance)):
            if not (np.isfinite(value) and value > 0):
                raise InputError(key, value, "a positive number (SI units)")
        if charge_transfer_resistance is not None and not (np.isfinite(charge_transfer_resistance)
                                                           and charge_transfer_resistance > 0):
            raise InputError("charge_transfer_resistance", charge_transfer_resistance,
                             "a positive resistance in Ohm m^2, or none (blocking walls)")
        if degree not in (1, 2):
            raise InputError("degree", degree, "1 or 2")
        self.meshdata, self.mesh = meshdata, meshdata.mesh
        self.pore_regions, self.separator = list(pore_regions), separator
        self.parameters = {"conductivity": conductivity, "capacitance": capacitance,
                           "charge_transfer_resistance": charge_transfer_resistance}
        self.degree = degree
        self.build()

    # ------------------------------------------------------------------------------------------ stages
    def build_spaces(self) -> None:
        """Pore cells, wall facets (pore on "+"), the pore submesh and its entity map, measures, phi."""
        import ufl
        from dolfinx import fem
        from dolfinx import mesh as dmesh

        from femiec.meshing.submeshes import interface_integration_data, padded_entity_map, phase_submesh

        mesh, tdim = self.mesh, self.mesh.topology.dim
        cmap = mesh.topology.index_map(tdim)
        tags = self.meshdata.cell_tags
        values = [self.meshdata.cell_tag(name) for name in self.pore_regions]
        is_pore = np.zeros(cmap.size_local + cmap.num_ghosts, dtype=bool)
        is_pore[tags.indices[np.isin(tags.values, values)]] = True
        pore_cells = np.flatnonzero(is_pore).astype(np.int32)

        mesh.topology.create_entities(tdim - 1)
        mesh.topology.create_connectivity(tdim - 1, tdim)
        f2c = mesh.topology.connectivity(tdim - 1, tdim)
        counts = np.diff(f2c.offsets)
        first = is_pore[f2c.array[f2c.offsets[:-1]]]
        second = is_pore[f2c.array[np.minimum(f2c.offsets[:-1] + 1, len(f2c.array) - 1)]]
        walls = np.flatnonzero((counts == 2) & (first != second)).astype(np.int32)
        self.interface = interface_integration_data(mesh, walls, is_pore)

        phase = phase_submesh(mesh, pore_cells, "pore")
        self.submesh, self.cell_map, self.vertex_map = phase.mesh, phase.cell_map, phase.vertex_map
        self.entity_maps = {self.submesh: padded_entity_map(phase, self.interface[:, 0], self.interface[:, 2])}
        cell_tags = dmesh.meshtags(mesh, tdim, pore_cells, np.full(len(pore_cells), PORE, dtype=np.int32))
        self.dx = ufl.Measure("dx", domain=mesh, subdomain_data=cell_tags)(PORE)
        self.wall = ufl.Measure("dS", domain=mesh, subdomain_data=[(WALL, self.interface.ravel())])(WALL)
        self.V = fem.functionspace(self.submesh, ("Lagrange", self.degree))
        self.phi = fem.Function(self.V, name="potential")

        comm = mesh.comm
        if comm.allreduce(len(self.interface)) == 0:
            raise InputError("model.pore_regions", self.pore_regions,
                             "pore regions that meet other (solid) cells of the mesh: no wall facets found")
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.meshdata.facet_tags)
        one = fem.Constant(mesh, 1.0)
        self.area = global_integral(one * ds(self.meshdata.facet_id(self.separator)), comm)
        volume = global_integral(one * ufl.dx(domain=mesh), comm)
        self.thickness = volume / self.area if self.area > 0 else np.inf
        self.porosity = global_integral(one * self.dx, comm) / volume
        self.wall_area = global_integral(one("+") * self.wall, comm)

    def build_coefficients(self) -> None:
        from dolfinx import fem

        p = self.parameters
        self.kappa = fem.Constant(self.mesh, p["conductivity"])
        self.C_dl = fem.Constant(self.mesh, p["capacitance"])
        R = p["charge_transfer_resistance"]
        self.R_ct = None if R is None else fem.Constant(self.mesh, R)
        self.phi_solid = fem.Constant(self.mesh, 0.0)

    def build_conditions(self) -> None:
        """phi = V on the submesh facets that lie on the separator (all their vertices on separator
        facets of the parent); V (``self.voltage``) starts at 0 with phi = 0, a steady state."""
        from dolfinx import fem
        from dolfinx.mesh import compute_incident_entities, exterior_facet_indices

        tdim = self.mesh.topology.dim
        fdim = tdim - 1
        self.mesh.topology.create_connectivity(fdim, 0)
        facets = self.meshdata.facet_tags.find(self.meshdata.facet_id(self.separator))
        on_separator = np.zeros(len(self.vertex_map), dtype=bool)
        on_separator[compute_incident_entities(self.mesh.topology, facets, fdim, 0)] = True
        sub_on_separator = np.zeros(self.submesh.topology.index_map(0).size_local
                                    + self.submesh.topology.index_map(0).num_ghosts, dtype=bool)
        sub_on_separator[self.vertex_map[on_separator & (self.vertex_map >= 0)]] = True
        topology = self.submesh.topology
        topology.create_entities(fdim)
        topology.create_connectivity(fdim, tdim)
        topology.create_connectivity(fdim, 0)
        exterior = exterior_facet_indices(topology)
        f2v = topology.connectivity(fdim, 0)
        keep = [f for f in exterior if np.all(sub_on_separator[f2v.links(f)])]
        dofs = fem.locate_dofs_topological(self.V, fdim, np.asarray(keep, dtype=np.int32))
        held = self.mesh.comm.allreduce(int(np.sum(dofs < self.V.dofmap.index_map.size_local)))
        if held == 0:
            raise InputError("model.separator", self.separator, "a facet tag on the face of the pores")
        self.voltage = fem.Constant(self.submesh, 0.0)
        self.bcs = [fem.dirichletbc(self.voltage, dofs, self.V)]
        self.phi.x.array[:] = 0.0

    def build_residual(self) -> None:
        import ufl

        self.test = ufl.TestFunction(self.V)
        self.residual = self.steady_residual()

    def build_solver(self) -> None:
        """The linear steady solve (SNES ksponly, MUMPS) at the voltage ``self.voltage``: phi = V with
        blocking walls, the DC state of the Faradaic walls with R_ct."""
        from femiec.solvers.snes import NonlinearSolver

        self.solver = NonlinearSolver(self.residual, self.phi, self.bcs, preset="direct",
                                      petsc_options={"snes_type": "ksponly"}, prefix=self.options_prefix,
                                      entity_maps=self.entity_maps)

    # -------------------------------------------------------------------------------- small-signal pieces
    def steady_residual(self, phi=None):
        """The residual without the time derivative (femiec.forms.blocking.pore_steady_residual)."""
        return pore_steady_residual(self.kappa, self.phi if phi is None else phi, self.test, self.dx, self.wall,
                                    self.phi_solid, self.R_ct)

    def storage_residual(self, rate):
        """The storage form int C_dl rate v dS_wall for a rate d(phi)/dt [V/s] (a Function on the pores)."""
        return double_layer_storage(rate, self.test, self.wall, self.C_dl)

    def current_forms(self):
        """(G, Q): the Faradaic wall current int phi/R_ct dS [A] (None when blocking) and the wall charge
        int C_dl phi dS [C], whose rate is the capacitive current: I = G + dQ/dt (module docstring)."""
        phi = self.phi("+")
        charge = double_layer_charge(phi, self.phi_solid, self.C_dl) * self.wall
        faradaic = None if self.R_ct is None else faradaic_wall_current(phi, self.phi_solid, self.R_ct) * self.wall
        return faradaic, charge

    def impedance_port(self):
        """The voltage-driven port: input V [V] on the separator, output I [A] into the cell; Z = V / I."""
        from femiec.studies.impedance import ImpedancePort

        def set_input(value: float) -> None:
            self.voltage.value = value

        faradaic, charge = self.current_forms()
        return ImpedancePort(
            residual=self.residual, unknowns=self.phi, bcs=self.bcs, storage=self.storage_residual,
            set_input=set_input, input_value=float(self.voltage.value), input_step=1e-3, output=faradaic,
            output_rate=charge, entity_maps=self.entity_maps, drive="voltage", sign=1.0, area=self.area,
            fields=lambda functions: {"potential": (functions[0], "V")},
            description="blocking cell: voltage on the separator, current into the pore walls")

    def solve(self):
        """The steady state at ``self.voltage`` (returns the solve statistics)."""
        return self.solver.solve()

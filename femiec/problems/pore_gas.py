"""O2 diffusion in the pores of the resolved porous MIEC electrode (docs/mixed_conductors.md, "Gas diffusion
in the pores"), coupled to the solid through the surface exchange of the pore walls.

The pore voxels that connect to the collector face (z = L) are meshed too (a second voxel mesh, image value
0), and :class:`femiec.problems.gas_diffusion.GasDiffusionProblem` solves x_O2 on it:

- z = L (``zmax``): gas supply, x = x_0 = pO2_supply / p;
- z = 0 (``zmin``) and the lateral faces: closed (N . n = 0);
- the pore walls (``pore|miec``): the O2 leaves the gas at g = w i_x / (4F) [mol/(m^2 s)], i_x the exchange
  current density of the solid (linear or Butler-Volmer in Delta = -(R T / (4F)) (ln pO2_solid - ln(x p)))
  and w the same smooth-area weight as on the solid side (femiec.problems.miec_electrode.wall_area_weight).

The solid's surface exchange sees the wall gas pO2 = x p as a nodal field instead of the uniform pO2. Pores
that do not reach the collector (closed) are not meshed: their walls exchange with gas at the supply pO2.

Coupling: staggered (block Gauss-Seidel). Each pass solves the solid (Newton) with the present wall gas
pO2, carries its unknown u = ln(n / n_ref) to the wall nodes of the gas mesh, solves the gas (Newton) with that,
and carries x back; the passes stop when the max-norm change of the wall x is below ``tolerance``
(default 1e-12), at most ``max_passes`` (the solid's state is that of the last pass: its wall pO2 is
within the tolerance of the gas's). The wall nodes of the two meshes coincide, so the carried nodal
values (dolfinx nonmatching interpolation, parallel-safe) are exact; both sides evaluate ln pO2 = f(u) and
ln(x p) of these P1 fields at the same quadrature points (degree 2 p + 1 on the walls, as the solid), so at
the fixed point they integrate the same i_x on the same faces: O2 conservation holds to the pass tolerance.

Small signal (the electrode's impedance, :meth:`PoreGasCoupling.small_signal`): not staggered but one
monolithic block system of solid and gas (femiec.studies.coupled_small_signal), the gas with its storage
c_t dx/dt [mol/(m^3 s)] (the transient O2 balance c_t dx/dt + div N = 0 in the pores, c_t = p / (R T)), the
transfers as their 0/1 nodal selection matrices: the spectrum has the gas-diffusion arc.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl

from femiec.errors import InputError, SolverError
from femiec.forms import gas_diffusion as gas_forms
from femiec.forms import miec as forms
from femiec.materials.defects import P_REF


@dataclass(frozen=True)
class GasTransport:
    """Gas diffusion in the pores (module docstring).

    pore_diameter: d_pore [m] of the Knudsen diffusivity (None: no Knudsen term); pressure: total p [Pa];
    binary_diffusivity: D_12 [m^2/s] at (T, p) (None: Fuller); flux_law: "fick" or "dusty_gas";
    tolerance: max change of the wall x between passes; max_passes."""

    pore_diameter: float | None = None
    pressure: float = 1e5
    binary_diffusivity: float | None = None
    flux_law: str = "fick"
    tolerance: float = 1e-12
    max_passes: int = 200


def open_pores(image: np.ndarray, solid_value: int, pore_value: int) -> np.ndarray:
    """``image`` (values solid_value / pore_value) with the pore clusters (6-connected) that do not touch
    z = L turned into ``solid_value``: the gas domain is then the pore_value voxels."""
    from femiec.meshing.tomography import face_clusters

    labels, _ = face_clusters(image == pore_value)
    supplied = np.setdiff1d(np.unique(labels[:, :, -1]), [0])
    out = np.full_like(image, solid_value)
    out[np.isin(labels, supplied)] = pore_value
    return out


class _NodalTransfer:
    """Nodal values of a P1 Function on one mesh at the nodes of another (nonmatching interpolation); nodes
    not on the source mesh get ``fallback``."""

    def __init__(self, space_to, space_from, fallback: float):
        from dolfinx import fem

        index_map = space_to.mesh.topology.index_map(space_to.mesh.topology.dim)
        self.cells = np.arange(index_map.size_local + index_map.num_ghosts, dtype=np.int32)
        self.data = fem.create_interpolation_data(space_to, space_from, self.cells, padding=1e-12)
        ones = fem.Function(space_from)
        ones.x.array[:] = 1.0
        found = fem.Function(space_to)
        found.interpolate_nonmatching(ones, self.cells, self.data)
        self.missing = np.abs(found.x.array - 1.0) > 1e-8
        self.fallback = fallback

    def __call__(self, target, source, fallback: float | None = None) -> None:
        """target = source at the target's nodes, ``fallback`` (default: the transfer's) where the source mesh
        has none."""
        target.x.array[:] = 0.0
        target.interpolate_nonmatching(source, self.cells, self.data)
        target.x.array[self.missing] = self.fallback if fallback is None else fallback
        target.x.scatter_forward()

    def carry_indices(self, target, source) -> None:
        """The transfer with -1 at the nodes the source mesh does not reach (for the selection matrix of the
        small signal, femiec.studies.coupled_small_signal.Transfer)."""
        self(target, source, fallback=-1.0)


class PoreGasCoupling:
    """The gas problem of an electrode (:class:`femiec.problems.miec_electrode.PorousMIECElectrode`) and
    the staggered solve of the module docstring."""

    def __init__(self, electrode, spec: GasTransport, exchange):
        from dolfinx import fem

        from femiec.meshing.voxel import voxel_mesh
        from femiec.problems.gas_diffusion import GasDiffusionProblem
        from femiec.problems.miec_electrode import COLLECTOR, NAMES, PORE, SOLID, WALLS, wall_area_weight

        if spec.flux_law not in gas_forms.FLUX_LAWS:
            raise InputError("gas.flux_law", spec.flux_law, f"one of {list(gas_forms.FLUX_LAWS)}")
        self.spec, self.electrode, self.exchange = spec, electrode, exchange
        solid = electrode.problem
        T, supply = solid.temperature, exchange.pressure
        self.mole_fraction = supply / spec.pressure
        if not 0 < self.mole_fraction < 1:
            raise InputError("oxygen_pressure", supply, f"below the gas pressure {spec.pressure} Pa")
        image = open_pores(electrode.image, SOLID, PORE)
        if not (image == PORE).any():
            raise InputError("image", "no pore reaches z = L", "pores open to the current collector")
        self.meshdata = voxel_mesh(image, [PORE], electrode.spacing, solid.mesh.comm, phase_names=NAMES)
        self.gas = GasDiffusionProblem(self.meshdata, temperature=T, pressure=spec.pressure,
                                       pore_diameter=spec.pore_diameter, binary_diffusivity=spec.binary_diffusivity,
                                       flux_law=spec.flux_law, initial_mole_fraction=self.mole_fraction,
                                       quadrature_degree=2 * solid.degree + 1)
        self.gas.set_mole_fraction(COLLECTOR, self.mole_fraction)
        self.gas.build_spaces()
        space_g, space_s = self.gas.space, solid.spaces[0]
        # the solid's unknown u = ln(n / n_ref) at the gas's wall nodes, and the gas's x at the solid's: both
        # sides then evaluate the same functions of the same nodal values at the same quadrature points
        self.solid_u_on_gas = fem.Function(space_g, name="solid_log_electrons")
        self.mole_fraction_on_solid = fem.Function(space_s, name="gas_oxygen_mole_fraction")
        self.mole_fraction_on_solid.x.array[:] = self.mole_fraction
        self.to_gas = _NodalTransfer(space_g, space_s, 0.0)
        self.to_solid = _NodalTransfer(space_s, space_g, self.mole_fraction)
        wall_tag = self.meshdata.facet_id(WALLS)
        weight = (wall_area_weight(self.meshdata, wall_tag, phase=PORE, solid_mask=electrode.image == SOLID)
                  if electrode.reactive_area == "smooth" else 1)
        n = forms.electron_concentration(self.solid_u_on_gas, solid.reference_concentration)
        solid_lnp = solid.material.log_oxygen_pressure(n, T)
        self.gas.set_oxygen_flux(WALLS, weight * gas_forms.wall_oxygen_flux(
            self.exchange_current(solid_lnp, self._log_pressure(self.gas.x), T)))
        self.gas.build("coefficients")
        solid.values[("gas_lnp", solid.wall_tag)] = self._log_pressure(self.mole_fraction_on_solid)
        solid.build("residual")
        self.passes = 0

    def _log_pressure(self, mole_fraction):
        """ln(x p / p_ref) (UFL) of the O2 mole fraction x."""
        return ufl.ln(mole_fraction * (self.spec.pressure / P_REF))

    def exchange_current(self, solid_lnp, gas_lnp, temperature):
        """i_x [A/m^2] (UFL) of the electrode's exchange law for the solid's and the gas's ln(pO2/p_ref)."""
        c = self.exchange
        delta = forms.oxygen_potential_difference(solid_lnp, gas_lnp, temperature)
        if c.resistance is not None:
            return forms.surface_exchange_current(delta, c.resistance)
        return forms.butler_volmer_exchange_current(delta, c.exchange_rate, c.transfer_coefficient, temperature)

    def solve(self) -> int:
        """The staggered passes of the module docstring from the present state; returns their number."""
        from mpi4py import MPI

        solid, comm = self.electrode.problem, self.meshdata.mesh.comm
        for passes in range(1, self.spec.max_passes + 1):
            solid.solve_steady()
            self.to_gas(self.solid_u_on_gas, solid.u[0])
            self.gas.solve()
            previous = self.mole_fraction_on_solid.x.array.copy()
            self.to_solid(self.mole_fraction_on_solid, self.gas.x)
            change = comm.allreduce(np.abs(self.mole_fraction_on_solid.x.array - previous).max(initial=0.0),
                                    op=MPI.MAX)
            if change < self.spec.tolerance:
                self.passes = passes
                return passes
        raise SolverError(f"gas-solid coupling: no fixed point in {self.spec.max_passes} passes "
                          f"(last change of the wall x {change:.3e})")

    def small_signal(self):
        """The gas as the partner of the electrode's impedance port (femiec.studies.coupled_small_signal):
        its steady residual, x and the supply condition, the storage c_t dx/dt of
        :meth:`GasDiffusionProblem.storage_residual`, and the two transfers of the staggered solve (the
        solid's u at the gas's wall nodes, the gas's x at the solid's), linearised as their 0/1 nodal
        selections."""
        from femiec.studies.coupled_small_signal import CoupledProblem, Transfer

        return CoupledProblem(self.gas.residual, self.gas.x, self.gas.bcs, self.gas.storage_residual,
                              transfers=[Transfer(0, self.mole_fraction_on_solid, 0, self.to_solid.carry_indices),
                                         Transfer(1, self.solid_u_on_gas, 0, self.to_gas.carry_indices)])

    def supplied_oxygen(self) -> float:
        """O2 entering the gas at the collector face [mol/s] (the consistent flux of the supply)."""
        from femiec.problems.miec_electrode import COLLECTOR

        return -self.gas.oxygen_flow(COLLECTOR)

    def wall_oxygen(self) -> float:
        """O2 leaving the gas through the walls [mol/s]: int w i_x / (4F) dS on the gas side."""
        from femiec.problems.miec_electrode import WALLS

        return self.gas.oxygen_flow(WALLS)


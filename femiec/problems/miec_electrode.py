"""Resolved porous MIEC electrode on a segmented image: gas pores + MIEC solid on a dense electrolyte,
current collector on the gas side (docs/mixed_conductors.md, "Porous MIEC electrode on an image").

Geometry (image indexed [ix, iy, iz], voxel size in metres): the electrode thickness L runs along z. Only the
solid (MIEC) voxels are meshed (one hexahedron per voxel, :func:`femiec.meshing.voxel.voxel_mesh`); solid
clusters that do not connect z = 0 to z = L are turned into pore first (:func:`connected_solid`: a floating
cluster carries no current). Faces of the solid mesh:

- ``zmin`` (z = 0), the dense electrolyte: oxide-ion transfer i_ion . n = (psi_ion - 0) / R_t
  (:class:`~femiec.problems.miec_conditions.ElectrolyteContact` with the electrolyte's ionic potential 0 and
  a small transfer resistance R_t [Ohm m^2]: ion-reversible as R_t -> 0), electron-blocking;
- ``zmax`` (z = L), the current collector: psi_el = V (:class:`ElectronicContact`), ion-blocking;
- the pore walls (the voxel faces between solid and pore, ``WALLS``): surface exchange with the gas at a
  uniform pO2 (ALS's assumption), linear i_x = Delta / R_s or Butler-Volmer in Delta with r0
  (:class:`SurfaceExchange`), Delta = (mu_O,gas - mu_O) / (2F) [V];
- the lateral box faces: ion- and electron-blocking (mirror symmetry).

Why a reversible contact and not a dense pad of a pure ionic conductor: the MIEC problem has one material
on its fields, and a pad would add the electrolyte's own ohmic and spreading resistance, which is not part of
the electrode ASR that Adler-Lane-Steele (ALS) describe; R_t contributes R_t / f in series (f the solid's
area fraction on z = 0, exact when the current is uniform over the contact), which :func:`als_reference`
adds to the ALS value.

Reactive area (``reactive_area``): the walls are a staircase of voxel faces, about 3/2 times the smooth
area the image samples; with "smooth" (default) the exchange current on each wall face f carries the weight
w_f of :mod:`femiec.meshing.interface_area` (sum_f w_f |f| = the smooth area), with "voxel" it does not.

Equilibrium and overpotential: with the electrolyte at psi_ion = 0, equilibrium with the gas gives
psi_el = V_eq = (R T / (4 F)) ln(pO2 / p_ref); the overpotential is eta = V - V_eq [V], the current density
i = I / A_proj [A/m^2] with I the current into the MIEC through the collector and A_proj the image's
projected area normal to z (i > 0 for eta > 0: oxygen evolution, anodic); ASR = d eta / d i [Ohm m^2].
"""
from __future__ import annotations

import dataclasses

import numpy as np
import ufl

from femiec.constants import FARADAY, GAS_CONSTANT
from femiec.errors import InputError
from femiec.forms import miec as forms
from femiec.materials.defects import P_REF
from femiec.problems.base import global_integral
from femiec.problems.miec import BLOCKS, MixedConductorProblem
from femiec.problems.miec_conditions import ElectrolyteContact, ElectronicContact, SurfaceExchange
from femiec.solvers.presets import block_amg_newton_krylov

#: phase names of the meshed image (image value 0 = pore, 1 = MIEC after :func:`connected_solid`)
PORE, SOLID = 0, 1
NAMES = {PORE: "pore", SOLID: "miec"}
#: face names of the solid mesh
WALLS, ELECTROLYTE, COLLECTOR = "pore|miec", "zmin", "zmax"
REACTIVE_AREAS = ("smooth", "voxel")


def connected_solid(image: np.ndarray, solid, pore=None) -> np.ndarray:
    """uint8 image with 1 on the solid voxels (image value(s) ``solid``) of the 6-connected clusters that span
    z (from the electrolyte to the collector) and 0 elsewhere (pore, and every other phase if ``pore`` is
    None; with ``pore`` given, other values are an InputError). Cut-off solid clusters become pore."""
    from femiec.meshing.tomography import keep_percolating

    image = np.asarray(image)
    if image.ndim != 3:
        raise InputError("image", f"array of shape {image.shape}", "a 3D array indexed [ix, iy, iz]")
    solids = np.atleast_1d(solid).tolist()
    mask = np.isin(image, solids)
    if pore is not None:
        known = mask | np.isin(image, np.atleast_1d(pore))
        if not known.all():
            raise InputError("image", sorted(np.unique(image[~known]).tolist()),
                             f"only the solid {solids} and pore {np.atleast_1d(pore).tolist()} values")
    return keep_percolating(mask, "z", phase=solids).astype(np.uint8)


def wall_area_weight(meshdata, tag: int, phase: int = SOLID, solid_mask=None):
    """w on the exterior facets ``tag`` of a voxel mesh of the image value ``phase`` alone (the solid, or
    the pores for the gas) (UFL): the weight w_f of :func:`femiec.meshing.interface_area.face_area_weights`
    of each face (of the solid's indicator ``solid_mask``, default the mesh image's SOLID voxels; the pores'
    indicator is its complement, with the same weights), held per
    cell in a DG0 function with one value per cell face (-x, +x, -y, +y, -z, +z) and picked by the outward
    normal n:
    w = sum_k W_(2k+1) max(n_k, 0) + W_(2k) max(-n_k, 0); 1 on faces not in ``tag``."""
    from dolfinx import fem

    from femiec.meshing.interface_area import face_area_weights
    from femiec.meshing.voxel import facet_voxels

    mesh = meshdata.mesh
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = mesh.topology.connectivity(tdim - 1, tdim)
    facets = meshdata.facet_tags.find(tag)
    cells = f2c.array[f2c.offsets[facets]]  # exterior facets: one cell each
    spacing = np.asarray(meshdata.info["voxel_size_m"], dtype=float)
    mask = meshdata.image == SOLID if solid_mask is None else solid_mask
    axis, lower = facet_voxels(mesh, facets, spacing)
    below = (meshdata.image[tuple(lower.T)] == phase).astype(np.int64)
    component = 2 * axis + below  # the meshed voxel below: its +axis face
    space = fem.functionspace(mesh, ("DG", 0, (6,)))
    weights = fem.Function(space, name="face_area_weight")
    weights.x.array[:] = 1.0
    weights.x.array[6 * space.dofmap.list[cells, 0] + component] = face_area_weights(mask, lower, axis, spacing)
    n = ufl.FacetNormal(mesh)
    return sum(weights[2 * k + 1] * ufl.max_value(n[k], 0) + weights[2 * k] * ufl.max_value(-n[k], 0)
               for k in range(tdim))


class _WallWeightedProblem(MixedConductorProblem):
    """The MIEC problem with the exchange current on the walls multiplied by the area weight w, and a fixed
    quadrature degree 2 p + 1 (p the Lagrange degree; UFL's estimate for the exponential and logarithmic
    coefficients on hexahedra is far higher and makes the assembly ~100 times slower)."""

    def __init__(self, meshdata, material, *, wall_weight, **options):
        self.wall_weight, self.wall_tag = wall_weight, meshdata.facet_id(WALLS)
        super().__init__(meshdata, material, **options)

    def build_spaces(self) -> None:
        super().build_spaces()
        metadata = {"quadrature_degree": 2 * self.degree + 1}
        self.dx = self.dx(metadata=metadata)
        self.ds = self.ds(metadata=metadata)

    def boundary_fluxes(self, u=None, psi_el=None) -> tuple[dict, dict]:
        ionic, total = super().boundary_fluxes(u, psi_el)
        ionic[self.wall_tag] = self.wall_weight * ionic[self.wall_tag]
        return ionic, total


class PorousMIECElectrode:
    """The resolved porous MIEC electrode of the module docstring, at equilibrium after construction.

    Args:
        image: segmented integer image [ix, iy, iz] (the same on every rank).
        voxel_size: voxel edge [m] (or three).
        material: defect chemistry (:class:`femiec.materials.defects.DefectChemistry`).
        solid, pore: image value(s) of the MIEC and of the pores.
        temperature: T [K]; oxygen_pressure: the gas pO2 [Pa] in every pore.
        surface_resistance: R_s [Ohm m^2] of the linear exchange, or exchange_rate r0 [mol/(m^2 s)] (and
            transfer_coefficient alpha) of the Butler-Volmer one: exactly one.
        transfer_resistance: R_t [Ohm m^2] of the oxide-ion transfer into the electrolyte.
        reactive_area: "smooth" or "voxel" (module docstring).
        gas: None (default: a uniform gas pO2 in every pore, ALS's assumption) or a
            :class:`femiec.problems.pore_gas.GasTransport`: O2 diffusion in the pores, supplied at z = L
            with the pO2 ``oxygen_pressure`` (x_0 = oxygen_pressure / gas.pressure).
        comm, degree, preset, petsc_options, newton_tolerance: of
            :class:`femiec.problems.miec.MixedConductorProblem`; snes_atol defaults to 0 here (the residual
            rows are currents [A], ~1e-15 A on a sub-micron image: an absolute floor would stop Newton at
            once), so Newton stops on its update. ``preset="fieldsplit"`` (large images: no factorisation)
            gets the inexact Newton-Krylov settings of
            :func:`femiec.solvers.block_amg_newton_krylov` for the blocks u, psi_el (FGMRES to 1e-4 with
            one BoomerAMG V-cycle per block); ``petsc_options`` override them.
    """

    def __init__(self, image, voxel_size, material, *, solid=1, pore=0, temperature: float,
                 oxygen_pressure: float, surface_resistance: float | None = None,
                 exchange_rate: float | None = None, transfer_coefficient: float = 0.5,
                 transfer_resistance: float = 1e-9, reactive_area: str = "smooth", comm=None, degree: int = 1,
                 preset: str = "direct", petsc_options: dict | None = None, newton_tolerance: float = 1e-10,
                 gas=None):
        from mpi4py import MPI

        from femiec.meshing.voxel import voxel_mesh, voxel_spacing

        if reactive_area not in REACTIVE_AREAS:
            raise InputError("reactive_area", reactive_area, f"one of {list(REACTIVE_AREAS)}")
        comm = MPI.COMM_WORLD if comm is None else comm
        self.reactive_area = reactive_area
        self.image = connected_solid(image, solid, pore)
        self.spacing = voxel_spacing(voxel_size)
        self.meshdata = voxel_mesh(self.image, [SOLID], self.spacing, comm, phase_names=NAMES)
        self.projected_area = float(self.image.shape[0] * self.image.shape[1] * self.spacing[0] * self.spacing[1])
        self.thickness = float(self.image.shape[2] * self.spacing[2])
        weight = wall_area_weight(self.meshdata, self.meshdata.facet_id(WALLS)) if reactive_area == "smooth" else 1
        self.equilibrium_voltage = GAS_CONSTANT * temperature / (4 * FARADAY) * np.log(oxygen_pressure / P_REF)
        exchange = SurfaceExchange(WALLS, oxygen_pressure, surface_resistance, exchange_rate, transfer_coefficient)
        krylov = block_amg_newton_krylov(BLOCKS) if preset == "fieldsplit" else {}
        conditions = [ElectrolyteContact(ELECTROLYTE, 0.0, transfer_resistance),
                      ElectronicContact(COLLECTOR, self.equilibrium_voltage), exchange]
        self.problem = _WallWeightedProblem(self.meshdata, material, wall_weight=ufl.as_ufl(weight),
                                            temperature=temperature, oxygen_pressure=oxygen_pressure,
                                            conditions=conditions, degree=degree, preset=preset,
                                            petsc_options={"snes_atol": 0.0, **krylov, **(petsc_options or {})},
                                            newton_tolerance=newton_tolerance)
        self.overpotential = 0.0
        self.gas = None
        if gas is not None:
            from femiec.problems.pore_gas import PoreGasCoupling

            self.gas = PoreGasCoupling(self, gas, exchange)

    # ------------------------------------------------------------------------------------------- steady
    def solve(self, overpotential: float) -> float:
        """The steady state at eta = ``overpotential`` [V] (Newton from the present state); returns the
        current density i [A/m^2]."""
        self.problem.set_voltage(COLLECTOR, self.equilibrium_voltage + float(overpotential))
        if self.gas is None:
            self.problem.solve_steady()
        else:
            self.gas.solve()
        self.overpotential = float(overpotential)
        return self.current_density()

    def current_density(self) -> float:
        """i = I / A_proj [A/m^2]: the current into the MIEC through the collector per projected area."""
        return self.problem.current(COLLECTOR) / self.projected_area

    def polarisation_curve(self, overpotentials) -> np.ndarray:
        """Steady current densities i [A/m^2] at the overpotentials eta [V], solved in the given order
        (each from the previous state: give them from small to large |eta|)."""
        return np.array([self.solve(eta) for eta in overpotentials])

    def area_specific_resistance(self, step: float = 1e-3) -> float:
        """ASR = d eta / d i [Ohm m^2] at the present overpotential: the zero-frequency impedance of
        :meth:`impedance_port`, i.e. one linear solve with the Jacobian at the present state (exact to
        rounding; a central difference of two Newton solves is limited by their ~1e-11 V error). With gas
        diffusion in the pores (``gas``) the ASR is the central difference 2 step / (i(eta + step) -
        i(eta - step)) of two coupled (staggered) solves (``step`` [V]; truncation O(step^2 i_3 / i_1) with
        i_k the k-th derivative of i(eta), ~1e-7 relative at 1 mV), after which the state at eta is restored;
        the zero-frequency impedance of the coupled port (solid + gas) agrees with it to that truncation
        (tests/verification/test_miec_electrode_gas_impedance.py)."""
        if self.gas is None:
            return float(self.impedance([0.0]).area_specific[0].real)
        eta = self.overpotential
        asr = 2 * step / (self.solve(eta + step) - self.solve(eta - step))
        self.solve(eta)
        return asr

    # -------------------------------------------------------------------------------------- diagnostics
    def exchange_current_density(self):
        """The local exchange current density i_x [A/m^2] per true wall area (UFL, without the area weight;
        > 0 where oxygen leaves the solid): Delta / R_s or the Butler-Volmer current."""
        return MixedConductorProblem.boundary_fluxes(self.problem)[0][self.problem.wall_tag]

    def wall_current(self) -> float:
        """int_walls w i_x dS [A]: the net ionic current out of the solid into the gas through the walls."""
        return self.problem.ionic_current(WALLS)

    def electrolyte_current(self) -> float:
        """int_zmin i_ion . n dS [A]: the ionic current out of the solid into the electrolyte."""
        return self.problem.ionic_current(ELECTROLYTE)

    def utilisation_depth(self) -> float:
        """The mean depth of the exchange [m], z_x = int_walls z w i_x dS / int_walls w i_x dS (z from the
        electrolyte): delta for a semi-infinite ALS profile i_x ~ exp(-z / delta) (L >> delta)."""
        ds, i_x = self.problem.ds(self.problem.wall_tag), self.problem.boundary_fluxes()[0][self.problem.wall_tag]
        z = ufl.SpatialCoordinate(self.problem.mesh)[2]
        comm = self.problem.mesh.comm
        return global_integral(z * i_x * ds, comm) / global_integral(i_x * ds, comm)

    def output_fields(self) -> dict:
        """The MIEC fields (:meth:`MixedConductorProblem.output_fields`) and, nodal [unit]:
        ``oxygen_potential`` psi_ion - psi_el = -mu_O / (2F) [V], ``exchange_current_density`` i_x
        (:meth:`exchange_current_density`; the wall value at wall nodes) [A/m^2] and ``utilisation`` = i_x
        over its largest absolute value [-]."""
        from dolfinx import fem

        from femiec._compat import interpolation_points

        out = self.problem.output_fields()
        space, T = self.problem.spaces[0], self.problem.T
        lnp = self.problem.local()["lnp"]
        expressions = {"oxygen_potential": (forms.ionic_potential(0.0, lnp, T), "V"),
                       "exchange_current_density": (self.exchange_current_density(), "A/m^2")}
        for name, (expr, unit) in expressions.items():
            f = fem.Function(space, name=name)
            f.interpolate(fem.Expression(expr, interpolation_points(space)))
            out[name] = (f, unit)
        rate = out["exchange_current_density"][0]
        largest = self.problem._global_max(rate.x.array)
        utilisation = fem.Function(space, name="utilisation")
        utilisation.x.array[:] = rate.x.array / largest if largest > 0 else 0.0
        out["utilisation"] = (utilisation, "1")
        return out

    # --------------------------------------------------------------------------------------- impedance
    def impedance_port(self):
        """The MIEC problem's voltage-driven port at the collector (about the present steady state), with the
        projected area so that ``Spectrum.area_specific`` is Z A_proj [Ohm m^2]. With gas diffusion in the
        pores (``gas``) the port carries the gas problem as its coupled partner
        (femiec.problems.pore_gas.PoreGasCoupling.small_signal): the linearization is the monolithic block
        system of solid and gas, and the spectrum has the gas-diffusion arc."""
        description = "porous MIEC electrode: collector voltage, current into it"
        if self.gas is not None:
            description += " (with O2 diffusion in the pores)"
        return dataclasses.replace(self.problem.impedance_port(COLLECTOR), area=self.projected_area,
                                   description=description,
                                   coupled=None if self.gas is None else self.gas.small_signal())

    def impedance(self, frequency, **options):
        """:func:`femiec.studies.impedance.impedance_spectrum` of :meth:`impedance_port` at ``frequency``
        [Hz] (``options``: method, inner, rtol, reuse_decades, ...). The steady solver's factorization or
        preconditioner is freed first (the spectrum sets up its own; the next steady solve rebuilds it at
        its first Newton iteration anyway): 32^3 image, 2 ranks, reduced sweep: 360 -> 318 MB per rank."""
        from femiec.studies.impedance import impedance_spectrum

        self.problem.solver.release()
        return impedance_spectrum(self.impedance_port(), frequency, **options)

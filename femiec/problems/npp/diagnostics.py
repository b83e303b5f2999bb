"""Diagnostics and output of a Nernst–Planck–Poisson problem: amounts, charge, currents, Debye length,
the derived quantities of a case summary and the output fields (a mixin of the problem class)."""
from __future__ import annotations

import numpy as np
import ufl

from femiec.constants import FARADAY
from femiec.forms.poisson import charge_density
from femiec.problems.base import global_integral


class NppDiagnostics:
    """Integrals and fields of the present state (SI units) of
    :class:`~femiec.problems.npp.model.NernstPlanckPoisson`."""

    def _assemble(self, expression, measure) -> float:
        return self._integrate(expression * measure)

    def _integrate(self, form) -> float:
        """The value of a scalar UFL form, summed over the ranks."""
        return global_integral(form, self.mesh.comm)

    def _global_max(self, values) -> float:
        from mpi4py import MPI

        return float(self.mesh.comm.allreduce(values.max() if len(values) else 0.0, op=MPI.MAX))

    def _area(self, facets) -> float:
        from dolfinx import fem

        return self._assemble(fem.Constant(self.mesh, 1.0), self._facet_measure(facets))

    def _cells(self, region):
        if region is None:
            return self.dx
        return self.dx(self.meshdata.cell_tag(region) if isinstance(region, str) else int(region))

    def amount(self, species: str, region=None) -> float:
        """Amount int c dx of ``species`` [mol in 3D; mol/m in 2D; mol/m^2 in 1D] (in a cell region)."""
        return self._assemble(self.state(self.u).concentrations[self._species_index(species)], self._cells(region))

    def total_charge(self, region=None) -> float:
        """int (F sum z_i c_i + rho_fixed) dx [C in 3D; C/m in 2D; C/m^2 in 1D] (in a cell region)."""
        state = self.state(self.u)
        rho = charge_density(state.concentrations, [s.charge for s in self.species], self.fixed_charge)
        return self._assemble(rho, self._cells(region))

    def electrode_current(self, name: str) -> float:
        """Total anodic (faradaic) current of electrode ``name`` [A in 3D; A/m in 2D; A/m^2 in 1D]."""
        form = self.current_form(name)
        return 0.0 if form is None else self._integrate(form)

    def ionic_current(self, facets) -> float:
        """Ionic current F sum_i z_i int J_i . n ds out of the domain through ``facets`` [A in 3D],
        computed from the fields' gradients (use :meth:`electrode_current` at electrodes)."""
        n = ufl.FacetNormal(self.mesh)
        state = self.state(self.u)
        density = sum(FARADAY * s.charge * ufl.dot(self.flux(i, state), n) for i, s in enumerate(self.species))
        return self._assemble(density, self._facet_measure(facets if not isinstance(facets, (str, int))
                                                           else (facets,)))

    def electrode_current_density(self, name: str) -> float:
        """Mean anodic current density of electrode ``name`` [A/m^2]: :meth:`electrode_current` divided by
        the area of its facets (length in 2D, 1 in 1D); None for facets without boundary area."""
        area = self._area(next(e for e in self.electrodes if e.name == name).facets)
        return self.electrode_current(name) / area if area > 0 else None

    def ionic_current_density(self, facets) -> float | None:
        """Mean outward ionic current density through boundary facet tag(s) ``facets`` [A/m^2]:
        :meth:`ionic_current` divided by their area (None for facets without boundary area)."""
        facets = (facets,) if isinstance(facets, (str, int)) else tuple(facets)
        area = self._area(facets)
        return self.ionic_current(facets) / area if area > 0 else None

    def debye_length(self) -> float:
        """Debye length [m] of the species at their reference concentrations and the reference
        permittivity: sqrt(eps R T / (F^2 sum z_i^2 c_i)); None without charged species."""
        from femiec.analytic.electrochemistry import debye_length

        if all(s.charge == 0 for s in self.species):
            return None

        return debye_length(self.scaling.permittivity, self.scaling.temperature, self.species_scale,
                            [s.charge for s in self.species])

    def derived_quantities(self) -> dict:
        """Amounts [mol], area-mean concentrations [mol/m^3] and mean outward ionic current densities
        [A/m^2] on every named facet tag (None for facets without boundary area), total charge [C],
        electrode currents [A], mean current densities [A/m^2] and potentials [V], Debye length [m]
        (amounts, charge and currents per unit area in 1D and per unit length in 2D)."""
        facets = self.meshdata.facet_names or {}
        return {"amount_mol": {s.name: self.amount(s.name) for s in self.species},
                "facet_mean_concentration_mol_m3": {s.name: {f: self.facet_mean_concentration(s.name, f)
                                                             for f in facets} for s in self.species},
                "facet_ionic_current_density_A_m2": {f: self.ionic_current_density(f) for f in facets},
                "total_charge_C": self.total_charge(),
                "electrode_current_A": {e.name: self.electrode_current(e.name) for e in self.electrodes},
                "electrode_current_density_A_m2": {e.name: self.electrode_current_density(e.name)
                                                   for e in self.electrodes},
                "electrode_potential_V": {e.name: self.electrode_potential(e.name) for e in self.electrodes},
                "debye_length_m": self.debye_length()}

    def facet_mean_concentration(self, species: str, facets) -> float:
        """Area mean of c over facet tag(s) ``facets`` [mol/m^3] (None for facets without area)."""
        facets = (facets,) if isinstance(facets, (str, int)) else tuple(facets)
        c = self.state(self.u).concentrations[self._species_index(species)]
        area = self._area(facets)
        return self._assemble(c, self._facet_measure(facets)) / area if area > 0 else None

    def electrode_potential(self, name: str) -> float:
        """Potential V [V] of electrode ``name`` (the solved value for a galvanostatic electrode)."""
        return float(self.electrode_voltage[name].value)

    # ------------------------------------------------------------------------------------- output
    def output_fields(self) -> dict:
        """``{name: (Function, unit)}``: ``potential`` [V], ``concentration_<species>`` [mol/m^3] and, for
        a temperature field, ``temperature`` [K] (and ``heat_flux`` [W/m^2] when T is solved) (call
        :meth:`update_output` before writing)."""
        from dolfinx import fem

        if not hasattr(self, "_outputs"):
            n = len(self.species)
            self._outputs = {f"concentration_{s.name}": (fem.Function(self.subspaces[i][0]), "mol/m^3")
                             for i, s in enumerate(self.species)}
            self._outputs["potential"] = (fem.Function(self.subspaces[n][0]), "V")
            temperature = self.heat.T if self.heat is not None else self.T
            if hasattr(temperature, "function_space"):
                self._outputs["temperature"] = (temperature, "K")
            if self.heat is not None:
                self._outputs["heat_flux"] = (self.heat.heat_flux_function(), "W/m^2")
        self.update_output()
        return self._outputs

    def update_output(self) -> None:
        """Fill the output Functions with the SI values of the current state (nodal values)."""
        from dolfinx import fem

        from femiec._compat import interpolation_points

        n = len(self.species)
        values = self.nodal_values()
        for i, s in enumerate(self.species):
            f = self._outputs[f"concentration_{s.name}"][0]
            f.x.array[:] = values[i]
        self._outputs["potential"][0].x.array[:] = values[n]
        if self.heat is not None:
            q = self._outputs["heat_flux"][0]
            q.interpolate(fem.Expression(self.heat.heat_flux(), interpolation_points(q.function_space)))

    def nodal_values(self) -> list[np.ndarray]:
        """SI nodal values (local dofs, owned then ghosts) of c_1..c_N [mol/m^3] and phi [V], in the order
        of ``self.subspaces[i][0].tabulate_dof_coordinates()``."""
        n = len(self.species)
        raw = [self.u.x.array[self.subspaces[i][1]] for i in range(n + 1)]
        conc = [self.species_scale[i] * (np.exp(raw[i]) if self.variables == "log" else raw[i]) for i in range(n)]
        return conc + [self.scaling.potential * raw[n]]

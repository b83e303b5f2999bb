"""Derived quantities of the resolved electrode: volumes, areas, amounts of lithium and salt, charges,
voltage, capacity, state of charge per particle, the phase boundaries of Cahn–Hilliard particles, and the
summary description (a part of :class:`femiec.problems.electrode.ElectrodeProblem`, kept in its own
module). SI units throughout.
"""
from __future__ import annotations

import numpy as np
import ufl

from femiec.constants import FARADAY, VACUUM_PERMITTIVITY
from femiec.forms.electrode import dilute_conductivity, ion_diffusivities
from femiec.problems.base import global_integral
from femiec.problems.electrode_geometry import CONDUCTOR, ELECTROLYTE, SEPARATOR

SECONDS_PER_HOUR = 3600.0


class Diagnostics:
    """Integrals and descriptions of the electrode problem's state."""

    def potential_of_zero_charge(self) -> float:
        """phi_pzc [V] of the double layer: the given value, or U(x0) (uncharged initial state)."""
        pzc = self.double_layer.potential_of_zero_charge
        return self.particle_model.equilibrium_potential() if pzc is None else float(pzc)

    def debye_length(self) -> float:
        """lambda_D = sqrt(eps_0 eps_r R T / (2 F^2 c_ref)) [m] of the double-layer electrolyte."""
        from femiec.analytic.electrochemistry import debye_length

        c = self.electrolyte.concentration
        return debye_length(VACUUM_PERMITTIVITY * self.double_layer.relative_permittivity, self.temperature,
                            (c, c), (1, -1))

    def _integral(self, expression, measure) -> float:
        """int expression d(measure), summed over the ranks (compiled forms cached by their text)."""
        key = (str(expression), str(measure))
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = self.form(expression * measure)
        return global_integral(form, self.mesh.comm)

    def volume(self, marker: int) -> float:
        """Volume [m^3] of the cells with phase ``marker`` (ELECTROLYTE, ACTIVE, CONDUCTOR)."""
        return self._integral(ufl.as_ufl(1.0), self.dx(marker))

    def interface_area(self) -> float:
        """Area [m^2] of the reaction interface Gamma as meshed: int_Gamma dS (the staircase of voxel faces
        on a voxel mesh)."""
        return self._integral(ufl.as_ufl(1.0), self.gamma)

    def smooth_interface_area(self) -> float | None:
        """Area [m^2] of the smooth surface behind Gamma on a voxel mesh, int_Gamma w dS with the face
        weights of femiec.meshing.interface_area (None on other meshes, whose facets are the surface)."""
        if self.smooth_area_weight is None:
            return None
        return self._integral(self.smooth_area_weight, self.gamma)

    def separator_area(self) -> float:
        """Area [m^2] of the separator facets of the electrolyte."""
        return self._integral(ufl.as_ufl(1.0), self.ds(SEPARATOR))

    def lithium_in_solid(self) -> float:
        """Amount of lithium in the active material int c_s dx [mol]."""
        return self._integral(self.field_map()[self.particle_model.concentration], self.dx_active)

    def salt_in_electrolyte(self) -> float:
        """Amount of salt int eps c dx [mol] (eps = 1 in the resolved pores); with the double layer the
        amount of anion int eps c- dx (no anion crosses a boundary, so it is conserved)."""
        model = self.electrolyte_model
        salt = model.concentration if self.double_layer is None else model.anion
        return self._integral(self.porosity * self.field_map()[salt], self.dx_electrolyte)

    def lithium_in_electrolyte(self) -> float:
        """Amount of Li+ int eps c+ dx [mol] (the salt amount in the electroneutral model)."""
        lithium = self.electrolyte_model.reaction_plane(self.field_map())[0]
        return self._integral(self.porosity * lithium, self.dx_electrolyte)

    def electrolyte_charge(self) -> float:
        """Net charge of the electrolyte int eps F (c+ - c-) dx [C] (0 in the electroneutral model)."""
        if self.double_layer is None:
            return 0.0
        fields = self.field_map()
        c_plus, c_minus = fields[self.electrolyte_model.cation], fields[self.electrolyte_model.anion]
        return self._integral(self.porosity * FARADAY * (c_plus - c_minus), self.dx_electrolyte)

    def total_reaction_current(self) -> float:
        """int_Gamma i w dS [A] (anodic positive; minus the applied discharge current; w = 1 unless
        ``reactive_area`` is "smooth")."""
        return self._integral(self.reaction_current() * self.area_weight, self.gamma)

    def voltage(self) -> float:
        """Cell voltage V = phi_s(collector) - <phi_e>_separator [V] (phi_s = 0 on the collector; phi_e the
        Li reference potential, phi + (RT/F) ln(c+/c_ref) with the double layer)."""
        return -self._integral(self.lithium_reference_potential(), self.ds(SEPARATOR)) / self._separator_area

    def voltage_form(self):
        """The output functional of a small-signal analysis: V = -int_separator phi_e ds / A_separator [V]
        as a UFL form of the present state (compile it with :meth:`form`)."""
        self._prepare()
        return -(1 / self._separator_area) * self.lithium_reference_potential() * self.ds(SEPARATOR)

    def stern_charge(self) -> float:
        """Charge of the active material's surface int_Gamma C_S (phi_s - phi - phi_pzc) w dS [C] (double
        layer; it balances the electrolyte's net charge)."""
        if self.double_layer is None:
            return 0.0
        return self._integral(self.stern_charge_density() * self.area_weight, self.gamma)

    def stern_charge_density(self):
        """Surface charge C_S (phi_s - phi_pzc - phi) [C/m^2] (UFL, on Gamma: phi_s of the particle "-",
        phi of the electrolyte "+") of the double layer's Stern layer (the Robin condition of Poisson's
        equation, eps dphi/dn = that charge)."""
        return self.electrolyte_model.stern_charge_density(self.field_map())

    def lithium_reference_potential(self, functions=None):
        """phi_e [V] (UFL): the potential of a Li reference electrode in the electrolyte (default: of the
        present state)."""
        return self.electrolyte_model.reaction_plane(self.field_map(functions))[1]

    def mean_stoichiometry(self) -> float:
        """Volume-averaged c_s / c_max of the active material (-)."""
        self._prepare()
        return self.lithium_in_solid() / (self._active_volume * self.active.max_concentration)

    def capacity(self) -> float:
        """Charge [C] of the active material between the stoichiometries of the window."""
        self._prepare()
        lo, hi = self.active.stoichiometry_window
        return FARADAY * self.active.max_concentration * (hi - lo) * self._active_volume

    def one_c_current(self) -> float:
        """The 1C current [A]: capacity / 1 h."""
        return self.capacity() / SECONDS_PER_HOUR

    def particle_stoichiometry(self) -> dict[int, float]:
        """Mean c_s / c_max per particle label."""
        from dolfinx import fem

        if "particle" not in self._forms:
            v0 = ufl.TestFunction(self.V0)
            c_s = self.field_map()[self.particle_model.concentration]
            self._forms["particle"] = (self.form(c_s * v0 * self.dx_active),
                                       self.form(v0 * self.dx_active))
        amount_form, volume_form = self._forms["particle"]
        cells = self.V0.dofmap.list[: len(self.particle_label), 0]
        amount = fem.assemble_vector(amount_form).array[cells]
        volume = fem.assemble_vector(volume_form).array[cells]
        index = np.searchsorted(self.particle_ids, self.particle_label)
        mask = self.particle_label > 0
        sums = np.zeros((2, len(self.particle_ids)))
        np.add.at(sums[0], index[mask], amount[mask])
        np.add.at(sums[1], index[mask], volume[mask])
        sums = self.mesh.comm.allreduce(sums)
        return {int(k): float(s / (v * self.active.max_concentration))
                for k, s, v in zip(self.particle_ids, sums[0], sums[1])}

    def phase_boundary_area(self, x_a: float, x_b: float) -> float:
        """A_pb = int_{x_a < x < x_b} |grad x| dx / (x_b - x_a) [m^2] over the active material, x = c_s / c_max
        and x_a, x_b the binodal site fractions: the mean area of the level sets of x between the two phases,
        exactly the area of a planar interface (femiec.forms.cahn_hilliard.phase_boundary_density, the
        definition of the particle cell femiec.problems.intercalation). Each rank integrates its owned cells
        and the parts are summed over the ranks (no ghost cell counted twice)."""
        from femiec.forms.cahn_hilliard import phase_boundary_density

        x = self.field_map()[self.particle_model.concentration] / self.active.max_concentration
        return self._integral(phase_boundary_density(x, x_a, x_b), self.dx_active)

    def phase_boundaries(self) -> dict:
        """The record entries of phase-separating particles (a particle model with ``phase_compositions``:
        Cahn–Hilliard), {} for the others: ``phase_boundary_area_m2`` (:meth:`phase_boundary_area`, 0 without
        phase separation), ``transforming_particles``, the number of particles (labels of
        :meth:`particle_stoichiometry`) whose state of charge lies inside the spinodal
        (femiec.analytic.cahn_hilliard.particles_transforming), and ``transforming_fraction``, that number
        over the number of particles."""
        from femiec.analytic.cahn_hilliard import particles_transforming

        compositions = getattr(self.particle_model, "phase_compositions", None)
        if compositions is None:
            return {}
        compositions = compositions()
        states = list(self.particle_stoichiometry().values())
        area = 0.0 if compositions is None else self.phase_boundary_area(*compositions[0])
        count = particles_transforming(states, None if compositions is None else compositions[1])
        return {"phase_boundary_area_m2": area, "transforming_particles": count,
                "transforming_fraction": count / len(states)}

    def describe(self) -> dict:
        """Phase volumes [m^3], interface areas (as meshed, and smooth on a voxel mesh) and separator area
        [m^2], which of the two the kinetics use (``reactive_area``), capacity [A h], parameters."""
        self._prepare()
        return {"volume_m3": {"electrolyte": self.volume(ELECTROLYTE), "active": self._active_volume,
                              "conductor": self.volume(CONDUCTOR)},
                "interface_area_m2": self.interface_area(), "interface_area_smooth_m2": self.smooth_interface_area(),
                "reactive_area": self.reactive_area, "separator_area_m2": self._separator_area,
                "capacity_Ah": self.capacity() / SECONDS_PER_HOUR, "one_c_current_A": self.one_c_current(),
                "particles": len(self.particle_ids),
                "dofs": sum(V.dofmap.index_map.size_global for V in self.spaces),
                "dofs_per_field": {name: V.dofmap.index_map.size_global for name, V in zip(self.field_names,
                                                                                           self.spaces)},
                "electrolyte": self.electrolyte.model_dump(),
                "active_material": {**self.active.model_dump(), "ocv": self.ocv.as_dict(),
                                    "diffusivity": np.asarray(self.active.diffusivity).tolist()},
                "porous_separator": self.porous_separator.model_dump(),
                "conductor_conductivity": self.conductor_conductivity, "temperature_K": self.temperature,
                "double_layer": None if self.double_layer is None else self._describe_double_layer()}

    def _describe_double_layer(self) -> dict:
        """Parameters of the double layer and what follows from them (SI)."""
        e = self.electrolyte
        D_plus, D_minus = ion_diffusivities(e.diffusivity, e.transference_number)
        return {**self.double_layer.model_dump(), "potential_of_zero_charge": self.potential_of_zero_charge(),
                "debye_length_m": self.debye_length(), "cation_diffusivity": D_plus, "anion_diffusivity": D_minus,
                "conductivity_implied": dilute_conductivity(e.concentration, D_plus, D_minus, self.temperature)}

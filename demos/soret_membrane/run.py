"""Soret-driven separation in a 3D MIEC membrane with a hot and a cold face (ParaView output).

A 1 mm x 0.4 mm x 0.4 mm membrane (k = 2 W/(m K)) held at 1073 K on x = 0 and 873 K on x = 1 mm, other
faces insulating. A mobile neutral defect (e.g. an oxygen interstitial paired with its compensating hole,
treated as one neutral species) with Arrhenius diffusivity and heat of transport Q* = 0.1 eV diffuses in
the closed membrane (blocking faces) until the Soret flux balances Fickian back-diffusion:

    J = -D(T) (grad c + alpha_T c grad(ln T)),   alpha_T = Q*/(k_B T)

Steady state: c exp(-Q*/(k_B T)) = const, so c_cold / c_hot = exp(Q*/k_B (1/T_cold - 1/T_hot)) (printed
next to the computed ratio). Output in <out>: temperature.bp, heat_flux.bp, concentration_O.bp,
flux_O.bp (open the .bp folders in ParaView with the ADIOS2VTXReader) and summary.json.

Run:  .venv/bin/python demos/soret_membrane/run.py [out_dir]     (serial or mpirun -n N)
"""
from __future__ import annotations

import sys

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from femiec._compat import interpolation_points
from femiec.constants import BOLTZMANN, ELEMENTARY_CHARGE
from femiec.forms.nernst_planck import nernst_planck_flux, nernst_planck_residual
from femiec.forms.soret import alpha_from_heat_of_transport, soret_driving_force
from femiec.forms.time import backward_euler
from femiec.io.fields import FieldWriter
from femiec.io.summary import begin_output, write_summary
from femiec.materials.temperature_dependence import arrhenius
from femiec.meshing.box import box_mesh
from femiec.problems.thermal import HeatProblem
from femiec.solvers.snes import NonlinearSolver

SIZE, CELLS = [1e-3, 4e-4, 4e-4], [20, 8, 8]  # m
T_HOT, T_COLD, K = 1073.0, 873.0, 2.0  # K, K, W/(m K)
C_MEAN, D0, EA = 500.0, 1e-6, 80e3  # mol/m^3, m^2/s, J/mol
Q_STAR = 0.1 * ELEMENTARY_CHARGE  # J per particle


def main(out: str) -> None:
    comm = MPI.COMM_WORLD
    out_dir = begin_output(out, comm)
    meshdata = box_mesh(SIZE, CELLS, comm=comm)
    mesh = meshdata.mesh

    heat = HeatProblem(meshdata, K, initial=0.5 * (T_HOT + T_COLD))
    heat.set_temperature("xmin", T_HOT)
    heat.set_temperature("xmax", T_COLD)
    heat.solve()
    T = heat.T

    V = fem.functionspace(mesh, ("Lagrange", 1))
    c, c_n, v = fem.Function(V), fem.Function(V), ufl.TestFunction(V)
    c.x.array[:] = C_MEAN
    D = arrhenius(D0, EA, T)
    alpha = alpha_from_heat_of_transport(Q_STAR, T)
    J = nernst_planck_flux(c, D, 0, fem.Constant(mesh, 0.0), T, extra_driving_forces=[soret_driving_force(alpha, c, T)])
    tau = SIZE[0] ** 2 / float(arrhenius(D0, EA, T_COLD))  # slowest diffusion time
    dt = fem.Constant(mesh, 0.01 * tau)
    solver = NonlinearSolver(nernst_planck_residual(backward_euler(c, c_n, dt), J, v, ufl.dx), c,
                             petsc_options={"snes_type": "ksponly"})

    flux = fem.Function(fem.functionspace(mesh, ("DG", 0, (3,))), name="flux_O")
    flux_expr = fem.Expression(J, interpolation_points(flux.function_space))
    fields = {"concentration_O": (c, "mol/m^3"), "flux_O": (flux, "mol/(m^2 s)"), **heat.fields()}
    t = 0.0
    with FieldWriter(out_dir, fields) as writer:
        for step in range(12):  # steps growing x3 from 0.01 tau: transient, then steady
            c_n.x.array[:] = c.x.array
            solver.solve()
            t += float(dt.value)
            flux.interpolate(flux_expr)
            writer.write(t)
            dt.value = 3 * float(dt.value)

    ratio_expected = np.exp(Q_STAR / BOLTZMANN * (1 / T_COLD - 1 / T_HOT))
    ratio = _face_mean(meshdata, c, "xmax") / _face_mean(meshdata, c, "xmin")
    amount = _integral(mesh, c * ufl.dx) / np.prod(SIZE)
    summary = {"fields": writer.describe(), "heat_balance [W]": heat.heat_balance(),
               "separation": {"c_cold_over_c_hot": ratio, "closed_form": ratio_expected,
                              "mean_concentration [mol/m^3]": amount, "time [s]": t}}
    write_summary(out_dir, summary, comm)
    if comm.rank == 0:
        print(f"c_cold / c_hot = {ratio:.6f} (closed form {ratio_expected:.6f}); mean c = {amount:.6f} mol/m^3")


def _integral(mesh, form) -> float:
    return mesh.comm.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)


def _face_mean(meshdata, f, face) -> float:
    ds = ufl.Measure("ds", domain=meshdata.mesh, subdomain_data=meshdata.facet_tags)(meshdata.facet_tag(face))
    return _integral(meshdata.mesh, f * ds) / _integral(meshdata.mesh, 1.0 * ds)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "soret-membrane-out")

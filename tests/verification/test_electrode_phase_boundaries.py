"""Phase boundaries of the resolved electrode's Cahn–Hilliard particles (issue 21 outputs): the
phase-boundary area, the particles transforming at once, the per-particle state-of-charge field, and
their place in voltage.csv, summary.json and phase_boundaries.png.

Regular solution and scales as tests/verification/test_electrode_cahn_hilliard.py (Omega = 3 R T: binodal
x_a = 0.0707, x_b = 0.9293; spinodal 0.2113 < x < 0.7887).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from femiec.analytic.cahn_hilliard import binodal
from femiec.problems.electrode import ElectrodeProblem
from test_electrode_cahn_hilliard import ACTIVE, DEMO, ELL, MATERIAL, OMEGA, RT, T, demo_cahn_hilliard_case

H, S = ELL / 2, 5e-8  # voxel length along x and across [m]


def _box(comm, image, names, active_regions, conductor_regions=()):
    from femiec.meshing.voxel import voxel_mesh

    meshdata = voxel_mesh(image, voxel_size=(H, S, S), phase_names=names, comm=comm)
    return ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=active_regions,
                            conductor_regions=list(conductor_regions), separator=["xmin"], collector=["xmax"],
                            temperature=T, active=ACTIVE, particle_model="cahn_hilliard", cahn_hilliard=MATERIAL)


def _particle(comm):
    """4 voxels of electrolyte in front of a box particle of 32 x 3 x 2 voxels (h = 5 nm along x, 50 nm
    across): cross-section A = 3 S x 2 S = 1.5e-14 m^2, x from 20 nm to 180 nm."""
    image = np.zeros((36, 3, 2), dtype=np.uint8)
    image[4:] = 1
    return _box(comm, image, {0: "pore", 1: "lfp"}, ["lfp"])


def _set_site_fraction(problem, profile):
    """Interpolate the site fraction x = profile(position along x [m]) into c_s / c_max (every node)."""
    problem.u[problem.index("concentration_solid")].interpolate(lambda X: profile(X[0]))


@pytest.mark.mpi
def test_planar_interface_has_the_area_of_the_cross_section(comm, numbers):
    """Oracle: a planar two-phase profile across a box particle of cross-section A has A_pb = A (coarea
    formula: int_{x_a < x < x_b} |grad x| dx / (x_b - x_a) = A int dx/ds ds / (x_b - x_a) = A for x(s)
    rising monotonically through the gap between the binodal site fractions).

    - Ramp: x = 0.02 for s < 60 nm, x_a + (x_b - x_a)(s - 60 nm) / 60 nm up to s = 120 nm, 0.98 beyond.
      Its kinks lie on node planes, where Q1 interpolates it exactly and every quadrature point of the
      ramp's cells lies strictly inside the gap: A_pb = A to round-off (1e-12 relative).
    - Smooth interface x = 1/2 + 0.49 tanh((s - 100 nm) / (2 ell)), ell = 10 nm (4 cells of h = 5 nm
      across its width): only the two cells where x crosses x_a or x_b are cut by the indicator, each off
      by less than its share h |dx/ds| / (x_b - x_a) = 0.033 of the gap (|dx/ds| = 0.0057 / nm there):
      A_pb = A within 7% (measured 0.07%: the two errors nearly cancel).
    - Homogeneous particles have A_pb = 0: the initial state x = x0 = 0.04 (outside the gap) exactly,
      x = 1/2 (inside it) to round-off (1e-12 A), and the one particle, its mean inside the spinodal, is
      transforming.
    """
    problem = _particle(comm)
    x_a, x_b = binodal(OMEGA, RT)
    area = 3 * S * 2 * S
    assert problem.phase_boundary_area(x_a, x_b) == 0.0  # the homogeneous initial state
    start, s1, s2 = 4 * H, 4 * H + 12 * H, 4 * H + 24 * H
    _set_site_fraction(problem, lambda x: np.where(x <= s1 + 1e-3 * H, np.where(x < s1 - 1e-3 * H, 0.02, x_a),
                                                  np.where(x >= s2 - 1e-3 * H, np.where(x > s2 + 1e-3 * H, 0.98, x_b),
                                                           x_a + (x_b - x_a) * (x - s1) / (s2 - s1))))
    ramp = problem.phase_boundary_area(x_a, x_b)
    _set_site_fraction(problem, lambda x: 0.5 + 0.49 * np.tanh((x - start - 20 * H) / (2 * ELL)))
    smooth = problem.phase_boundary_area(x_a, x_b)
    _set_site_fraction(problem, lambda x: np.full_like(x, 0.5))
    flat = problem.phase_boundary_area(x_a, x_b)
    numbers.record("ramp_area_over_section", ramp / area)
    numbers.record("smooth_area_over_section", smooth / area)
    assert ramp == pytest.approx(area, rel=1e-12)
    assert smooth == pytest.approx(area, rel=0.07)
    assert abs(flat) < 1e-12 * area  # round-off of the gradient of a constant
    entries = problem.phase_boundaries()
    assert entries["phase_boundary_area_m2"] == flat
    assert (entries["transforming_particles"], entries["transforming_fraction"]) == (1, 1.0)


@pytest.mark.mpi
def test_transforming_particles_count_means_inside_the_spinodal(comm, numbers):
    """Oracle: a particle is transforming while its state of charge (mean site fraction) lies inside the
    spinodal 0.2113 < x < 0.7887 (femiec.analytic.cahn_hilliard.particles_transforming). Two box particles
    of 8 x 2 x 2 voxels ("a" and "b", particle labels 1 and 2) kept apart by a conductor layer (no shared
    nodes), each homogeneous: (x_a, x_b) = (0.5, 0.04) -> 1 transforming (fraction 1/2), (0.5, 0.3) -> 2
    (fraction 1), (0.9, 0.04) -> 0; the phase-boundary area is 0 (homogeneous particles: to round-off,
    1e-12 of the section of both particles, 2 (2 S)^2), and the
    ``particle_state_of_charge`` output field holds each particle's state of charge on its cells."""
    image = np.zeros((21, 2, 2), dtype=np.uint8)
    image[4:12], image[12], image[13:] = 1, 3, 2
    problem = _box(comm, image, {0: "pore", 1: "a", 2: "b", 3: "carbon"}, ["a", "b"], ["carbon"])
    assert list(problem.particle_ids) == [1, 2]
    split = 12.5 * H
    counts = []
    for first, second in ((0.5, 0.04), (0.5, 0.3), (0.9, 0.04)):
        _set_site_fraction(problem, lambda x: np.where(x < split, first, second))
        assert problem.particle_stoichiometry() == pytest.approx({1: first, 2: second}, rel=1e-12)
        entries = problem.phase_boundaries()
        counts.append(entries["transforming_particles"])
        assert entries["transforming_fraction"] == counts[-1] / 2
        assert abs(entries["phase_boundary_area_m2"]) < 1e-12 * 2 * (2 * S) ** 2
    numbers.record("transforming", counts)
    assert counts == [1, 2, 0]
    states, unit = problem.output_fields()["particle_state_of_charge"]
    assert unit == "1"
    labels = problem.particle_label[problem.particle_label > 0]
    cells = problem.cell_maps["active"][np.flatnonzero(problem.particle_label > 0)]
    values = states.x.array[states.function_space.dofmap.list[cells, 0]]
    assert np.allclose(values, np.where(labels == 1, 0.9, 0.04), rtol=1e-12, atol=0)
    # every cell of the active submesh, ghosts included, holds its particle's state of charge
    assert np.all(np.isclose(states.x.array, 0.9, rtol=1e-12, atol=0)
                  | np.isclose(states.x.array, 0.04, rtol=1e-12, atol=0))


def test_fickian_records_have_no_phase_boundaries(comm):
    """The Fickian particle model has no phase boundaries: its records leave the entries None and
    voltage.csv has no phase columns (femiec.io.voltage_curve.has_phase_boundaries)."""
    from femiec.io.voltage_curve import has_phase_boundaries
    from femiec.meshing.voxel import voxel_mesh

    image = np.zeros((6, 2, 2), dtype=np.uint8)
    image[2:] = 1
    meshdata = voxel_mesh(image, voxel_size=1e-7, phase_names={0: "pore", 1: "nmc"}, comm=comm)
    problem = ElectrodeProblem(meshdata, electrolyte_regions=["pore"], active_regions=["nmc"], temperature=T)
    assert problem.phase_boundaries() == {}
    problem.set_current(0.0)
    record = problem.record()
    assert record.phase_boundary_area_m2 is None and not has_phase_boundaries([record])


@pytest.mark.mpi
@pytest.mark.skipif(not (DEMO.parents[2].parent / "shared" / "data" / "nmc_electrode_256.tiff").is_file(),
                    reason="the shared NMC image is not there")
def test_cahn_hilliard_case_writes_its_phase_boundaries(tmp_path_factory, comm, numbers):
    """`femiec run` of demos/nmc_electrode/case_12.toml on an 8^3 crop with Cahn–Hilliard particles
    (Omega = 3 R T, kappa = R T (1 um)^2: an interface as wide as a voxel; x0 = 0.05, window 0.05 to 0.95)
    for two 60 s steps at 1C: summary.json has
    ``phase_boundaries`` (largest area >= 0, the most particles transforming between 0 and the particle
    count, its fraction that count over the particles) equal to the maxima of voltage.csv's phase columns;
    phase_boundaries.png (redrawn by `femiec plot`) and the particle_state_of_charge field are written. The
    initial state is homogeneous (area 0; x0 = 0.05 lies outside the spinodal: none transforming)."""
    from femiec.cli import main

    tmp = Path(comm.bcast(str(tmp_path_factory.mktemp("ch_case")) if comm.rank == 0 else None))
    if comm.rank == 0:
        text, table = demo_cahn_hilliard_case(gradient_coefficient=2.48e-9)
        text = text.replace("dt_max = 600.0", "t_end = 120.0\ndt = 60.0\ndt_max = 60.0")
        text = text.replace("outputs = 5 ", "outputs = 2 ")
        text = text.replace("[model.discharge]\n", "[model.discharge]\nerror_tolerance = false\ndense_output = false\n")
        text = text.replace("initial_stoichiometry = 0.4\nstoichiometry_window = [0.4, 0.98]",
                            "initial_stoichiometry = 0.05\nstoichiometry_window = [0.05, 0.95]")
        (tmp / "case.toml").write_text(text + table)
    comm.barrier()
    assert main(["-q", "run", str(tmp / "case.toml"), "--out", str(tmp / "out")]) == 0
    out = tmp / "out"
    summary = json.loads((out / "summary.json").read_text())
    rows = list(csv.DictReader((out / "voltage.csv").open()))
    phases = summary["phase_boundaries"]
    particles = summary["description"]["particles"]
    areas = [float(r["phase_boundary_area_m2"]) for r in rows]
    counts = [int(r["transforming_particles"]) for r in rows]
    assert len(rows) == 3 and areas[0] == 0.0 and counts[0] == 0
    assert phases["largest_phase_boundary_area_m2"] == max(areas) >= 0
    assert phases["most_particles_transforming"] == max(counts) <= particles
    assert phases["most_particles_transforming_fraction"] == pytest.approx(max(counts) / particles, rel=1e-15,
                                                                           abs=0)
    assert all("phase_boundary_area_m2" in r for r in summary["solver"]["records"])
    assert (out / "phase_boundaries.png").is_file() and summary["files"]["phase_boundaries_png"]
    assert "particle_state_of_charge" in summary["fields"]
    comm.barrier()  # every rank has seen the figure before rank 0 removes it
    if comm.rank == 0:  # `femiec plot` redraws it from voltage.csv
        from femiec.io.redraw import redraw

        (out / "phase_boundaries.png").unlink()
        assert out / "phase_boundaries.png" in redraw(out) and (out / "phase_boundaries.png").is_file()
    numbers.record("phase_boundary_areas", areas)
    numbers.record("transforming", counts)
    numbers.record("voltages", [float(r["voltage_V"]) for r in rows])

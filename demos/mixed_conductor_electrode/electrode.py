"""Porous MIEC electrode on a synthetic 3D image: polarisation curve, ASR, Nyquist plot, maps for ParaView and
the resolved ASR against Adler-Lane-Steele (ALS) with femiec's own tortuosity and specific surface.

Image: overlapping MIEC spheres (femiec.homogenization.synthetic.overlapping_spheres, radius 2 voxels,
porosity 0.4, seed 1; the interior of a larger box), 24 x 24 x 40 voxels, thickness along z (electrolyte at z = 0, collector at z = L).
Material: an acceptor-doped oxide with constant mass-action constants and a high electron mobility
(sigma_el / sigma_ion = 3e4 at pO2 = 1e-21 Pa, T = 1000 K: ALS's ideal electronic rail). Surface exchange
R_s = 1e-5 Ohm m^2 (linear; the polarisation curve uses the Butler-Volmer exchange with the same
linearisation, r0 = R T / (4 F^2 R_s)).

ALS comparison: delta = sqrt(sigma_eff R_s / a) is fixed in metres; the voxel size h is swept so that
delta / d (d = 6 (1 - eps) / a, the particle size) runs from ~0.3 to ~30 (L / d is fixed by the image).
Writes to OUT (default ``out_mixed_conductor_electrode``): als_comparison.png/.csv, polarisation.png,
nyquist.png, fields/ (VTX: oxygen_potential, exchange_current_density, utilisation, ...), results.json.

Usage: [mpirun -n 2] python demos/mixed_conductor_electrode/electrode.py [OUT] [--shape NX NY NZ]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

from femiec.analytic.mixed_conductors import als_impedance  # noqa: E402
from femiec.forms.miec import exchange_resistance  # noqa: E402
from femiec.homogenization.synthetic import overlapping_spheres  # noqa: E402
from femiec.io.fields import FieldWriter  # noqa: E402
from femiec.materials.defects import DefectChemistry  # noqa: E402
from femiec.problems.miec_electrode import PorousMIECElectrode, connected_solid  # noqa: E402
from femiec.studies.impedance import frequencies  # noqa: E402
from femiec.studies.miec_als import als_reference, image_descriptors  # noqa: E402

MATERIAL = DefectChemistry(acceptor=4000.0, reduction_prefactor=2e-7, reduction_enthalpy=0.0,
                           intrinsic_prefactor=1e-8, intrinsic_enthalpy=0.0, vacancy_mobility=2.6e-9,
                           electron_mobility=1e-2, hole_mobility=1e-2, name="electronic MIEC, constant K")
T, PRESSURE, R_S = 1000.0, 1e-21, 1e-5
RADIUS = 2.0  # sphere radius [voxels]
RATIOS = np.logspace(np.log10(0.3), np.log10(30), 7)  # delta / d of the sweep


def _electrode(image, voxel, comm, **exchange):
    return PorousMIECElectrode(image, voxel, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, comm=comm,
                               **(exchange or {"surface_resistance": R_S}))


def als_sweep(image, unit, comm, log):
    """Rows (delta/d, h, ASR_resolved, ASR_ALS, delta, utilisation depth) over the voxel sizes h that put
    delta / d at RATIOS; ``unit`` the descriptors at h = 1 m (they scale as a ~ 1/h, d, L ~ h)."""
    als1, _ = als_reference(unit, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, surface_resistance=R_S)
    rows = []
    for ratio in RATIOS:
        # delta = delta_1 sqrt(h) (a ~ 1/h), d = d_1 h: delta / d = (delta_1 / d_1) h^(-1/2)
        h = (als1.utilization_length / (ratio * unit.particle_size)) ** 2
        scaled = dataclasses.replace(unit, specific_surface=unit.specific_surface / h,
                                     particle_size=unit.particle_size * h, thickness=unit.thickness * h)
        als, expected = als_reference(scaled, MATERIAL, temperature=T, oxygen_pressure=PRESSURE,
                                      surface_resistance=R_S, transfer_resistance=1e-9)
        start = time.perf_counter()
        electrode = _electrode(image, h, comm)
        asr = electrode.area_specific_resistance()
        electrode.solve(1e-3)
        depth = electrode.utilisation_depth()
        rows.append([als.utilization_length / scaled.particle_size, h, asr, expected, als.utilization_length, depth])
        log(f"delta/d = {rows[-1][0]:6.2f}  h = {h:.3e} m  ASR = {asr:.4e}  ALS = {expected:.4e}  "
            f"ratio = {asr / expected:.4f}  ({time.perf_counter() - start:.1f} s)")
    return np.array(rows)


def main(out: Path, shape) -> None:
    comm = MPI.COMM_WORLD
    log = print if comm.rank == 0 else (lambda *a: None)
    out.mkdir(parents=True, exist_ok=True)
    # the Boolean model has no centres outside its box, so its faces are pore-rich: crop a margin of 2 radii
    margin = int(2 * RADIUS)
    spheres = overlapping_spheres([n + 2 * margin for n in shape], 0.4, RADIUS, seed=1)
    image = connected_solid(spheres[margin:-margin, margin:-margin, margin:-margin], solid=1, pore=0)
    unit = image_descriptors(image, 1.0, comm)
    log(f"image {shape}: porosity {unit.porosity:.3f}, tau_z {unit.tortuosity:.3f}, a h {unit.specific_surface:.3f}, "
        f"d / h {unit.particle_size:.2f}, contact fraction {unit.contact_fraction:.3f}")

    rows = als_sweep(image, unit, comm, log)

    # the middle of the sweep: polarisation (Butler-Volmer), ASR, maps and impedance
    h = float(rows[len(rows) // 2, 1])
    electrode = _electrode(image, h, comm, exchange_rate=exchange_resistance(R_S, T))
    overpotentials = np.array([0.01, 0.025, 0.05, 0.1, 0.15, -0.01, -0.025, -0.05, -0.1, -0.15])
    start = time.perf_counter()
    current = electrode.polarisation_curve(overpotentials)
    log(f"polarisation: {len(overpotentials)} steady solves in {time.perf_counter() - start:.1f} s")
    electrode.solve(0.1)
    fields = {name: value for name, value in electrode.output_fields().items()
              if name in ("oxygen_potential", "exchange_current_density", "utilisation", "ionic_current",
                          "electronic_potential", "log_oxygen_pressure")}
    writer = FieldWriter(out / "fields", fields)
    writer.write(0.0)
    writer.close()
    electrode.solve(0.0)
    asr = electrode.area_specific_resistance()
    scaled = dataclasses.replace(unit, specific_surface=unit.specific_surface / h,
                                 particle_size=unit.particle_size * h, thickness=unit.thickness * h)
    als, expected = als_reference(scaled, MATERIAL, temperature=T, oxygen_pressure=PRESSURE, surface_resistance=R_S,
                                  transfer_resistance=1e-9)
    f = frequencies(1e-2 / als.time_constant, 1e4 / als.time_constant, 5)[:30]
    start = time.perf_counter()
    spectrum = electrode.impedance(f, method="presb", reuse_decades=0.5)
    log(f"impedance: {len(f)} frequencies, {spectrum.unknowns} unknowns, {time.perf_counter() - start:.1f} s")
    z = spectrum.area_specific
    z_als = als_impedance(2 * np.pi * f, als, scaled.thickness) + 1e-9 / scaled.contact_fraction

    if comm.rank == 0:
        _plots(out, rows, overpotentials, current, z, z_als)
        np.savetxt(out / "als_comparison.csv", rows, delimiter=",",
                   header="delta_over_d,voxel_m,asr_resolved_ohm_m2,asr_als_ohm_m2,delta_m,utilisation_depth_m")
        summary = {"image_shape": list(shape), "descriptors_per_voxel": dataclasses.asdict(unit),
                   "voxel_m": h, "asr_ohm_m2": asr, "asr_als_ohm_m2": expected, "unknowns": spectrum.unknowns,
                   "polarisation": {"overpotential_V": overpotentials.tolist(),
                                    "current_density_A_m2": current.tolist()}}
        (out / "results.json").write_text(json.dumps(summary, indent=2))
        log(f"ASR {asr:.4e} Ohm m^2 (ALS {expected:.4e}) at delta/d = {rows[len(rows) // 2, 0]:.2f}; wrote {out}")


def _plots(out, rows, overpotentials, current, z, z_als):
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.semilogx(rows[:, 0], rows[:, 2] / rows[:, 3], "o-", label="resolved / ALS")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="utilisation length / particle size, delta / d", ylabel="ASR_resolved / ASR_ALS",
           title="Porous MIEC electrode: resolved vs ALS")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "als_comparison.png", dpi=120)
    order = np.argsort(overpotentials)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(overpotentials[order], current[order], "o-")
    ax.set(xlabel="overpotential eta [V]", ylabel="current density [A/m^2]", title="Polarisation (Butler-Volmer)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "polarisation.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(z.real, -z.imag, "o", label="resolved")
    ax.plot(z_als.real, -z_als.imag, "-", label="ALS (Gerischer)")
    ax.set(xlabel="Re Z [Ohm m^2]", ylabel="-Im Z [Ohm m^2]", title="Impedance", aspect="equal")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "nyquist.png", dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out_mixed_conductor_electrode", type=Path)
    parser.add_argument("--shape", nargs=3, type=int, default=(24, 24, 40))
    args = parser.parse_args()
    main(args.out, tuple(args.shape))

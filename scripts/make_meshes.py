"""Regenerate the small sample meshes in meshes/ (run from the repository root, serial or under mpirun).

- nmc_crop_32.npy: 32^3 crop [100:132, 50:82, 0:32] of ../shared/data/nmc_electrode_256.tiff
  (uint8: 0 pore, 85 NMC, 170 carbon-binder; MIT licence, TauFactor project), voxel 0.4 um assumed;
- nmc_crop_16_voxel.xdmf: voxel mesh (all phases) of its first 16^3 voxels, phase and interface tags;
- sandwich_cell.xdmf: current collector | electrode | separator | counter electrode;
- sphere_packing.xdmf: 6 random spheres in a 30 um box;
- sphere_conforming.xdmf: conforming mesh of a voxelized sphere (16^3 image).
Each .xdmf comes with a .h5 and a .tags.json (tag names -> values).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from femiec.meshing.conforming import conforming_mesh
from femiec.meshing.gmsh_builders import sandwich_cell, sphere_packing
from femiec.meshing.quality import write_mesh_xdmf
from femiec.meshing.tomography import crop, read_image
from femiec.meshing.voxel import voxel_mesh

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "meshes"
NMC = ROOT.parent / "shared" / "data" / "nmc_electrode_256.tiff"
NAMES = {0: "pore", 85: "nmc", 170: "cbd"}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    image = crop(read_image(NMC), (100, 50, 0), (132, 82, 32))
    np.save(OUT / "nmc_crop_32.npy", image)
    small = crop(image, (0, 0, 0), (16, 16, 16))
    write_mesh_xdmf(voxel_mesh(small, voxel_size=0.4e-6, phase_names=NAMES), OUT / "nmc_crop_16_voxel.xdmf")
    write_mesh_xdmf(sandwich_cell(mesh_size=5e-6), OUT / "sandwich_cell.xdmf")
    write_mesh_xdmf(sphere_packing([30e-6] * 3, (4e-6, 1e-6), 6, seed=1, mesh_size=4e-6), OUT / "sphere_packing.xdmf")
    c = (np.arange(16) + 0.5) / 16
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    sphere = np.where((x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2 < 0.09, 1, 0).astype(np.uint8)
    write_mesh_xdmf(conforming_mesh(sphere, voxel_size=10e-6 / 16), OUT / "sphere_conforming.xdmf")


if __name__ == "__main__":
    main()

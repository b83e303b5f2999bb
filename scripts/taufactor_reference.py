"""Produce tests/data/taufactor_reference.json: TauFactor's tortuosity factors of small voxel images.

TauFactor (https://github.com/tldr-group/taufactor, MIT) is not a femiec dependency. Run this script in a
separate environment that has it, e.g. with the Python 3.11 on PATH:

    python3 -m venv /work/tf-venv
    /work/tf-venv/bin/pip install torch==2.13.0     # the CPU wheel
    /work/tf-venv/bin/pip install taufactor
    /work/tf-venv/bin/python scripts/taufactor_reference.py [--nmc shared/data/nmc_electrode_256.tiff]

It writes the test images to tests/data/taufactor_images.npz (uint8 arrays indexed [ix, iy, iz]) and, per
image and axis, TauFactor's tau, D_rel and volume fraction to tests/data/taufactor_reference.json.
TauFactor's ``Solver`` is used on the CPU with a tight convergence criterion (conv_crit 1e-5: maximum
relative difference of the fluxes through the x layers) so that the references are converged far below
the 1e-3 tolerance of the test; it solves along axis 0, so the image is transposed for the y and z axes.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONV_CRIT = 1e-5
ITER_LIMIT = 200_000


def _synthetic():
    """femiec.homogenization.synthetic, loaded by path (this environment cannot import femiec)."""
    path = ROOT / "femiec" / "homogenization" / "synthetic.py"
    spec = importlib.util.spec_from_file_location("femiec_synthetic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def images(nmc_path: Path | None) -> dict[str, tuple[np.ndarray, list[int]]]:
    """name -> (image, conducting voxel values)."""
    synthetic = _synthetic()
    cases = {
        "spheres32_p40": (synthetic.overlapping_spheres((32, 32, 32), 0.4, 4.0, seed=1), [0]),
        "spheres40x32x24_p30": (synthetic.overlapping_spheres((40, 32, 24), 0.3, 3.0, seed=2), [0]),
        "spheres32_p60_solid": (synthetic.overlapping_spheres((32, 32, 32), 0.6, 4.0, seed=3), [1]),
    }
    if nmc_path is not None:
        import tifffile

        nmc = tifffile.imread(nmc_path)
        cases["nmc32_pore"] = (np.ascontiguousarray(nmc[:32, :32, :32]), [0])
        cases["nmc32_solid"] = (np.ascontiguousarray(nmc[64:96, 64:96, 64:96]), [85, 170])
        cases["nmc48_pore"] = (np.ascontiguousarray(nmc[100:148, 20:68, 180:228]), [0])
    return cases


def taufactor_tau(binary: np.ndarray, axis: int) -> dict:
    import taufactor

    solver = taufactor.Solver(np.ascontiguousarray(np.moveaxis(binary, axis, 0)), device="cpu")
    tau = float(np.asarray(solver.solve(verbose=False, conv_crit=CONV_CRIT, iter_limit=ITER_LIMIT)).ravel()[0])
    return {"tau": tau, "D_rel": float(np.asarray(solver.D_rel).ravel()[0]),
            "volume_fraction": float(solver.VF[0]), "iterations": int(solver.iter),
            "converged": bool(solver.converged)}


def main() -> None:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nmc", type=Path, default=ROOT.parent / "shared" / "data" / "nmc_electrode_256.tiff")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data")
    args = parser.parse_args()
    cases = images(args.nmc if args.nmc.is_file() else None)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "taufactor_images.npz", **{name: image for name, (image, _) in cases.items()})
    references = []
    for name, (image, phases) in cases.items():
        binary = np.isin(image, phases).astype(np.uint8)
        for axis in range(3):
            entry = {"image": name, "phases": phases, "axis": "xyz"[axis], **taufactor_tau(binary, axis)}
            print(entry, flush=True)
            references.append(entry)
    document = {
        "producer": "scripts/taufactor_reference.py",
        "taufactor_version": version("taufactor"),
        "torch_version": version("torch"),
        "solver": {"class": "taufactor.Solver", "device": "cpu", "precision": "float32",
                   "conv_crit": CONV_CRIT, "iter_limit": ITER_LIMIT},
        "images": "taufactor_images.npz",
        "cases": references,
    }
    (args.out / "taufactor_reference.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Check that the numbers recorded by the serial test run and the `mpirun -n 2` run agree.

Usage: python scripts/compare_numbers.py DIR   (DIR holds numbers-np1.json and numbers-np2.json)

Every number recorded in the serial run must also be recorded under 2 ranks (every test that yields a
number runs on 2 ranks) and agree to |a - b| <= 1e-8 * max(|a|, |b|) + 1e-13. Exit 1 otherwise.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

RTOL, ATOL = 1e-8, 1e-13


def main(directory: str) -> int:
    folder = Path(directory)
    serial = json.loads((folder / "numbers-np1.json").read_text())
    parallel = json.loads((folder / "numbers-np2.json").read_text())
    missing = sorted(set(serial) - set(parallel))
    extra = sorted(set(parallel) - set(serial))
    worst, bad = 0.0, []
    for key in sorted(set(serial) & set(parallel)):
        a, b = serial[key], parallel[key]
        diff = abs(a - b)
        scale = max(abs(a), abs(b))
        if diff > ATOL:  # differences below the absolute floor (round-off of values near 0) are not ranked
            worst = max(worst, diff / scale)
        if diff > RTOL * scale + ATOL:
            bad.append(f"  {key}: serial {a!r} vs 2 ranks {b!r}")
    for key in missing:
        bad.append(f"  {key}: recorded serially but not under mpirun -n 2 (mark the test @pytest.mark.mpi)")
    for key in extra:
        bad.append(f"  {key}: recorded under mpirun -n 2 but not serially")
    n = len(set(serial) & set(parallel))
    if bad:
        print(f"serial vs 2 ranks: {len(bad)} disagreements among {len(serial)} numbers:")
        print("\n".join(bad))
        return 1
    print(f"serial vs 2 ranks: {n} numbers agree (largest relative difference above the absolute floor "
          f"{ATOL:g}: {worst:.2e}; tolerance {RTOL:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".pytest-numbers"))

"""Check recorded test numbers: serial against `mpirun -n 2`, or a run against a stored baseline.

Usage:
    python scripts/compare_numbers.py DIR
        DIR holds numbers-np1.json and numbers-np2.json (``make test`` writes them). Every number recorded
        in the serial run must also be recorded under 2 ranks (every test that yields a number runs on 2
        ranks) and agree to |a - b| <= 1e-8 * max(|a|, |b|) + 1e-13. Exit 1 otherwise.
    python scripts/compare_numbers.py --baseline FILE DIR
        Every number of the baseline FILE (e.g. tests/baseline/numbers-np1.json, the serial numbers kept
        before a restructuring) must come back in DIR/numbers-np1.json to a relative 1e-10 (+ 1e-13
        absolute). Lists each number that moved, went missing or is new; exit 1 when one moved or went
        missing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

RTOL, ATOL = 1e-8, 1e-13
BASELINE_RTOL = 1e-10


def compare(reference: dict, other: dict, rtol: float, names=("serial", "2 ranks")) -> tuple[list[str], float]:
    """(disagreements, largest relative difference above ATOL) of the numbers both dicts hold."""
    worst, bad = 0.0, []
    for key in sorted(set(reference) & set(other)):
        a, b = reference[key], other[key]
        diff = abs(a - b)
        scale = max(abs(a), abs(b))
        if diff > ATOL:  # differences below the absolute floor (round-off of values near 0) are not ranked
            worst = max(worst, diff / scale)
        if diff > rtol * scale + ATOL:
            bad.append(f"  {key}: {names[0]} {a!r} vs {names[1]} {b!r} (relative {diff / scale:.2e})")
    return bad, worst


def serial_against_parallel(folder: Path) -> int:
    serial = json.loads((folder / "numbers-np1.json").read_text())
    parallel = json.loads((folder / "numbers-np2.json").read_text())
    bad, worst = compare(serial, parallel, RTOL)
    for key in sorted(set(serial) - set(parallel)):
        bad.append(f"  {key}: recorded serially but not under mpirun -n 2 (mark the test @pytest.mark.mpi)")
    for key in sorted(set(parallel) - set(serial)):
        bad.append(f"  {key}: recorded under mpirun -n 2 but not serially")
    if bad:
        print(f"serial vs 2 ranks: {len(bad)} disagreements among {len(serial)} numbers:")
        print("\n".join(bad))
        return 1
    n = len(set(serial) & set(parallel))
    print(f"serial vs 2 ranks: {n} numbers agree (largest relative difference above the absolute floor "
          f"{ATOL:g}: {worst:.2e}; tolerance {RTOL:g})")
    return 0


def against_baseline(baseline_file: Path, folder: Path) -> int:
    baseline = json.loads(baseline_file.read_text())
    present = json.loads((folder / "numbers-np1.json").read_text())
    bad, worst = compare(baseline, present, BASELINE_RTOL, names=("baseline", "now"))
    missing = sorted(set(baseline) - set(present))
    new = sorted(set(present) - set(baseline))
    common = len(set(baseline) & set(present))
    print(f"baseline {baseline_file}: {common - len(bad)} of {len(baseline)} numbers come back to a relative "
          f"{BASELINE_RTOL:g} (largest relative difference {worst:.2e}); {len(bad)} moved, {len(missing)} "
          f"missing, {len(new)} new")
    for title, rows in (("moved", bad), ("missing", [f"  {k}" for k in missing]), ("new", [f"  {k}" for k in new])):
        if rows:
            print(f"{title}:")
            print("\n".join(rows))
    return 1 if bad or missing else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--baseline"]:
        return against_baseline(Path(argv[1]), Path(argv[2] if len(argv) > 2 else ".pytest-numbers"))
    return serial_against_parallel(Path(argv[0] if argv else ".pytest-numbers"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Open a femiec output directory with ParaView's pvpython and check it against summary.json.

Usage: python scripts/check_paraview.py OUT_DIR

For every field listed in summary.json: the .bp file opens in ParaView, has an array with the field's
name, and the min/max of the values ParaView reads equal the range femiec recorded (relative 1e-12).
Prints one line per field; exit 1 on any mismatch.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from femiec.io.pvread import probe


def main(out: str) -> int:
    directory = Path(out)
    summary = json.loads((directory / "summary.json").read_text())
    fields = summary["fields"]
    files = {name: directory / next(f for f in info["files"] if f.endswith(".bp")) for name, info in fields.items()}
    read = probe(*files.values())
    failures = 0
    for name, path in files.items():
        data = read[str(path)]
        values = {**{k: v["values"] for k, v in data["fields"].items()}, **data["cell_fields"]}
        if name not in values:
            print(f"FAIL {name}: ParaView sees arrays {sorted(values)}")
            failures += 1
            continue
        arr = np.asarray(values[name], dtype=float)
        lo, hi = fields[name]["range_last_output"]
        ok = np.isclose(arr.min(), lo, rtol=1e-12, atol=1e-300) and np.isclose(arr.max(), hi, rtol=1e-12, atol=1e-300)
        print(f"{'ok  ' if ok else 'FAIL'} {name} [{fields[name]['unit']}]: ParaView reads {arr.shape[0]} "
              f"values in [{arr.min():.6g}, {arr.max():.6g}], femiec wrote [{lo:.6g}, {hi:.6g}]")
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""Case files shared by the CLI, fault and preview tests."""
from pathlib import Path

#: a 2 mm x 1 mm x 1 mm conduction slab (2 S/m) with 0.5 V across x
SLAB_CASE = """
[case]
name = "slab"

[mesh]
kind = "box"
lengths = [2.0e-3, 1.0e-3, 1.0e-3]
cells = [6, 3, 3]

[materials.gdc]
conductivity = 2.0

[regions]
domain = "gdc"

[model]
kind = "conduction"
boundary = [{ facet = "xmin", value = 0.0 }, { facet = "xmax", value = 0.5 }]
"""

#: the 12^3 electrode demo (the tests cut it to an 8^3 crop)
ELECTRODE_DEMO = Path(__file__).resolve().parents[2] / "demos" / "nmc_electrode" / "case_12.toml"

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


#: a conduction case on an image mesh of phase 1 ("solid", 1 S/m), 0 V at xmin and 1 V at xmax; format with
#: ``file`` (the image) and ``extra`` (more [mesh] keys, e.g. a crop, or "")
IMAGE_CONDUCTION_CASE = """
[mesh]
kind = "image"
file = "{file}"
phases = {{ solid = 1 }}
voxel_size = 1.0e-6
{extra}

[materials.m]
conductivity = 1.0

[regions]
solid = "m"

[model]
kind = "conduction"
boundary = [{{ facet = "xmin", value = 0.0 }}, {{ facet = "xmax", value = 1.0 }}]
"""

"""The Joule-heated slab case shared by the transient heat tests (not a test module): 0 <= x <= L [m] of
a conductor (sigma [S/m], k [W/(m K)], rho c_p [J/(m^3 K)]) between V = 0 and V [V], both faces held at
T_FACE [K], initially at T_FACE. SLAB_CASE is the case text without its [time] table."""
from __future__ import annotations

L, WIDTH, SIGMA, V, K, RHO_CP, T_FACE = 1.0e-3, 2.0e-4, 5.0e3, 0.2, 2.0, 2.0e6, 300.0

SLAB_CASE = f"""
[mesh]
kind = "box"
lengths = [{L}, {WIDTH}, {WIDTH}]
cells = [8, 1, 1]
cell_type = "hexahedron"

[materials.lscf]
conductivity = {SIGMA}             # S/m
thermal_conductivity = {K}         # W/(m K)
heat_capacity = {RHO_CP}           # J/(m^3 K)

[model]
kind = "conduction"
degree = 2
boundary = [{{ facet = "xmin", value = 0.0 }}, {{ facet = "xmax", value = {V} }}]

[model.heat]
initial = {T_FACE}
boundary = [{{ facet = "xmin", temperature = {T_FACE} }}, {{ facet = "xmax", temperature = {T_FACE} }}]
"""

"""Output for ParaView and for scripts: field time series (VTX/XDMF), summary.json, progress."""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

"""Pure UFL building blocks (fluxes, residuals): take UFL objects, return UFL expressions and forms."""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

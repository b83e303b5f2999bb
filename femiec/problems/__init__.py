"""Model objects: own spaces, coefficients, boundary conditions and residuals built from femiec.forms."""
from femiec._compat import require_dolfinx

require_dolfinx()  # an ImportError saying how to install DOLFINx, before any submodule needs it

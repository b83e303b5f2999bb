"""Model objects: own spaces, coefficients, boundary conditions and residuals built from femiec.forms."""

"""Pure UFL building blocks (fluxes, residuals): take UFL objects, return UFL expressions and forms."""

"""Output for ParaView and for scripts: field time series (VTX/XDMF), summary.json, progress."""

"""Studies: what is done with a problem (DESIGN.md). Today: the small-signal impedance study.

- :mod:`.small_signal`: linearization (J + i omega M) du = -(dF/d input) d input of any problem that
  exposes its steady residual, storage form, control input and output functional; the real 2x2 block
  solve per frequency.
"""

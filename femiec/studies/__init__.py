"""Studies: what is done with a problem (DESIGN.md). Today: the small-signal impedance study.

- :mod:`.section`: the ``[study]`` table of a case file (no DOLFINx);
- :mod:`.small_signal`: linearization (J + i omega M) du = -(dF/d input) d input of any problem that
  exposes its steady residual, storage form, control input and output functional; the real 2x2 block
  solve per frequency (PRESB-preconditioned GMRES, or direct);
- :mod:`.impedance`: :class:`~femiec.studies.impedance.ImpedancePort` (what a problem gives the study),
  the spectrum and its frequencies;
- :mod:`.run`: a case's study (bias, sweep, fields); :mod:`.report`: its files and analyses;
- :mod:`.drt`, :mod:`.kramers_kronig`, :mod:`.fitting`, :mod:`.spectrum`: distribution of relaxation times,
  lin-KK test, circuit and parameter fits, the shared check of a spectrum (pure NumPy);
- :mod:`.fit_case`: ``femiec fit``, case parameters fitted to a measured spectrum;
- :mod:`.electrode_tortuosity`: the blocking cell's electrode tortuosity factor.
"""

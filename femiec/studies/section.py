"""The ``[study]`` table of a case file (pydantic; no DOLFINx): what is done with the model's problem.

Without ``[study]`` a case runs its model (a steady solve, a transient run). ``[study] kind =
"impedance"`` linearises the model about its steady state instead and writes its impedance spectrum
(docs/impedance.md).
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from femiec.errors import InputError
from femiec.sections import PositiveFloat, Section


class ImpedanceStudy(Section):
    """Small-signal impedance spectrum of the model about its steady (bias) state.

    Frequencies [Hz]: ``per_decade`` log-spaced from ``max_frequency`` down to ``min_frequency``, plus the
    frequencies of ``fields_at`` (where amplitude and phase fields are written for ParaView).
    ``electrode``: the electrode whose potential is perturbed (Nernst–Planck–Poisson cells with more than
    one); the other models have one input and ignore it. ``method``/``inner``/``rtol``/``inner_rtol``/``reuse_decades``:
    the frequency solve (femiec.studies.small_signal.FrequencySolver); ``method = "reduced"`` builds the
    whole sweep from one projected system to the relative accuracy ``reduced_tol`` of Z
    (femiec.studies.reduced_sweep). ``drt``, ``kramers_kronig``: analyses of the spectrum; ``circuit`` and
    ``initial_guess``: an equivalent circuit (impedance.py syntax, e.g. "R0-p(R1,C1)") fitted to it.
    """

    kind: Literal["impedance"]
    min_frequency: PositiveFloat = 1e-3
    max_frequency: PositiveFloat = 1e5
    per_decade: Annotated[int, Field(ge=1, le=100)] = 10
    electrode: str | None = None
    method: Literal["presb", "direct", "reduced"] = "presb"
    inner: Literal["lu", "amg", "cg", "fieldsplit"] = "lu"
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-12
    inner_rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-12
    reuse_decades: Annotated[float, Field(ge=0, le=3)] = 0.5
    reduced_tol: Annotated[float, Field(gt=0, lt=1)] = 1e-4
    fields_at: list[PositiveFloat] = Field(default_factory=list)
    drt: bool = True
    kramers_kronig: bool = True
    circuit: str | None = None
    initial_guess: list[float] | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.max_frequency <= self.min_frequency:
            raise InputError("study.max_frequency", self.max_frequency,
                             f"a frequency above study.min_frequency = {self.min_frequency:g} Hz")
        if (self.circuit is None) != (self.initial_guess is None):
            raise InputError("study.initial_guess" if self.circuit else "study.circuit",
                             self.initial_guess if self.circuit else None,
                             "study.circuit and study.initial_guess together (one value per circuit parameter)")
        return self


StudySection = ImpedanceStudy

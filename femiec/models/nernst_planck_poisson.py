"""Model kind ``nernst_planck_poisson``: coupled Nernst–Planck–Poisson transport with interface kinetics,
steady or transient (femiec.problems.nernst_planck_poisson; keys in docs/nernst_planck_poisson.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, ValidationInfo, model_validator

from femiec.models.spec import ModelSection, ModelSpec


class NernstPlanckPoissonModel(ModelSection):
    """Coupled Nernst–Planck–Poisson transport (femiec.problems.nernst_planck_poisson).

    The keys (species, closure, relative_permittivity, fixed_charge, temperature, degree, variables,
    conditions, electrodes, steady) are documented in docs/nernst_planck_poisson.md, in SI units, and are
    validated by building the problem (``femiec validate`` does that without solving). [solver], [time]
    (transient when given, steady otherwise) and [output] of the case apply.
    """

    model_config = ConfigDict(extra="allow")
    kind: Literal["nernst_planck_poisson"]

    @model_validator(mode="before")
    @classmethod
    def _temperature_file_beside_the_case(cls, data: Any, info: ValidationInfo) -> Any:
        """A relative ``temperature.file`` is read from the case file's folder, like every other path."""
        temperature = data.get("temperature") if isinstance(data, dict) else None
        if isinstance(temperature, dict) and isinstance(temperature.get("file"), str):
            path = Path(temperature["file"]).expanduser()
            if not path.is_absolute():
                base = Path((info.context or {}).get("base_dir", "."))
                data = {**data, "temperature": {**temperature, "file": str((base / path).resolve())}}
        return data

    def section(self, case) -> dict:
        """The plain SI dict that femiec.problems.nernst_planck_poisson.run_case takes."""
        section = self.model_dump(exclude={"kind"})
        section["solver"] = case.solver.model_dump()
        if case.time is not None:
            section["time"] = case.time.model_dump(exclude_none=True)
        section["output"] = {"formats": list(case.output.formats)}
        return section


def build(case, meshdata, comm):
    from femiec.problems.nernst_planck_poisson import problem_from_section

    return problem_from_section(case.model.section(case), meshdata)  # species, conditions, tags, units


def run(case, problem, out_dir, progress) -> dict:
    from femiec.problems.nernst_planck_poisson import run_case

    return run_case(case.model.section(case), problem.meshdata, out_dir, progress, problem=problem)


MODEL = ModelSpec("nernst_planck_poisson", NernstPlanckPoissonModel, build, run,
                  summary="Nernst–Planck–Poisson transport with interface kinetics, steady or transient")

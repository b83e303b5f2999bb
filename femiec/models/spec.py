"""What a model kind is: its typed case section and the two stages the runner calls.

A model kind (``[model] kind = "..."`` in a case file) is one :class:`ModelSpec`:

- ``section``: the typed ``[model]`` table (a :class:`ModelSection` with ``kind: Literal["<kind>"]``); it
  names the mesh tags it refers to and checks what it needs from the rest of the case;
- ``build(case, meshdata, comm) -> problem``: everything short of solving (coefficients, conditions, forms,
  solver set-up); every input error is raised here, so ``femiec validate`` and ``femiec run`` refuse the
  same inputs;
- ``check(case, meshdata, comm)`` (optional): the model's checks of the case against the mesh that need no
  problem (cheap: no function spaces, no forms); ``femiec validate`` runs them instead of ``build``
  (``femiec validate --build`` runs ``build``). ``check_outline``: the check also takes, for an image
  mesh, the mesh-free :class:`~femiec.meshing.image_outline.ImageMeshOutline` (tag names and lookups,
  facet counts, ``from_image``, ``smallest_cell_size()``; no DOLFINx mesh), so ``femiec validate``
  never builds the voxel mesh; False (the default): it builds the mesh for the check;
- ``run(case, problem, out_dir, progress) -> dict``: solve, write fields and files into ``out_dir``, return
  the model's summary entries (summary.json is written by the runner, last); None for a model that has
  only studies (its cases need a ``[study]`` table);
- ``preview(problem) -> Function`` (optional): the model's main field after ``run``, a DOLFINx Function
  named like its output field; the runner draws preview.png of it (:mod:`femiec.io.preview`);
- ``port(case, problem, study) -> ImpedancePort`` (optional): bring the problem to its steady (bias)
  state and return its small-signal port (:class:`femiec.studies.impedance.ImpedancePort`); a case with
  ``[study] kind = "impedance"`` then runs the impedance study instead of ``run``;
- ``image_halo(mesh_section) -> int`` (optional): the model works on an image read by planes; a voxel
  mesh of an image (without ``percolating_axis``) is then built from each rank's x-planes and this many
  halo planes on each side (``MeshData.planes``; femiec.runner.build_mesh); None: the whole image on
  every rank (``MeshData.image``).

The registry (:mod:`femiec.models.registry`) lists the specs; nothing else branches on the kind. No DOLFINx
here: sections are read and checked without it, ``build`` and ``run`` import what they need.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from femiec.sections import Section

if TYPE_CHECKING:
    from femiec.config.schema import Case


class ModelSection(Section):
    """Base of every ``[model]`` table."""

    #: discriminated tables of the section -> their tag values, left out of error keys (e.g.
    #: ``{"conditions": {"concentration", ...}}``: model.conditions[0].value, not ...[0].concentration.value)
    union_tags: ClassVar[dict[str, set[str]]] = {}

    def referenced_cell_tags(self) -> list[tuple[str, str]]:
        """(case key, name) of every cell-tag name this section refers to (checked against the mesh)."""
        return []

    def referenced_facet_tags(self) -> list[tuple[str, str]]:
        """(case key, name) of every facet-tag name this section refers to (checked against the mesh)."""
        return []

    def check_case(self, case: "Case") -> None:
        """Cross-checks with the other tables of the case (InputError); nothing by default."""

    def continues_outputs(self) -> bool:
        """True when the run continues the outputs already in its output directory (a restart), which are
        then not moved to ``previous/``; False by default."""
        return False


@dataclass(frozen=True)
class ModelSpec:
    """One model kind (see the module docstring)."""

    kind: str
    section: type[ModelSection]
    build: Callable[..., Any]
    run: Callable[..., dict] | None
    needs_mesh: bool = True
    summary: str = ""
    check: Callable[..., object] | None = None
    check_outline: bool = False
    preview: Callable[[Any], Any] | None = None
    port: Callable[..., Any] | None = None
    image_halo: Callable[[Any], int] | None = None

"""Small-signal linearization of two problems on two meshes coupled by transferred nodal fields: one
monolithic block system for femiec.studies.small_signal's frequency solvers.

Problem 0 (the port's: its residual F_0 depends on the control input, its output is the port's) and problem 1
(the partner: no input, no output) each read a field of the other carried to its own mesh by a nodal transfer:
f_a = T_ab u_b, T_ab the 0/1 selection of the nodal values of block b of the other problem at the nodes of
f_a's space where the other mesh has a node (the rest get a constant fallback). The linearization about a
steady state of both is then

    [ J_0 + i omega M_0     C_01              ] [du_0]   [ -dF_0/dp dp ]
    [ C_10                  J_1 + i omega M_1 ] [du_1] = [ 0           ],

    C_01 = (dF_0 / df_0) T_01,   C_10 = (dF_1 / df_1) T_10,

J_k, M_k each problem's own Jacobian and storage (femiec.studies.small_signal.linearize, with its Dirichlet
rows), dF/df the derivative of a residual with respect to the transferred Function (ufl.derivative) and T the
selection matrix built from the same transfer as the steady coupling (a PETSc AIJ matrix: the transfer is
applied to the global indices of the source dofs). The global layout is the per-rank concatenation
[owned dofs of problem 0's blocks, owned dofs of problem 1's blocks] (a MatNest's, converted to one AIJ
matrix), so the frequency solvers (presb, direct, reduced) run on it unchanged; M has no coupling blocks
(the transfer is instantaneous). Dirichlet dofs of either problem get identity rows and columns of the
whole matrix; the coupling blocks times the input's lift go to the forcing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import ufl
from petsc4py import PETSc

from femiec.errors import SolverError
from femiec.studies.small_signal import Linearization, _BlockLayout, _constrained_rows, linearize


@dataclass
class Transfer:
    """A field of one problem that is block ``block`` of the other problem carried to its nodes.

    Fields:
        problem: 0 (the port's residual reads ``field``) or 1 (the partner's does).
        field: the transferred Function (scalar Lagrange) that the residual reads.
        block: the index of the other problem's unknown that is carried.
        carry: ``carry(target, source)``: the nodal transfer of ``source`` (a Function on the space of that
            unknown) into ``target`` (a Function on ``field``'s space), with -1 at the nodes that the source
            mesh does not reach (parallel-safe; the same node correspondence as the steady coupling)."""

    problem: int
    field: object
    block: int
    carry: Callable


@dataclass
class CoupledProblem:
    """The partner problem of a port (module docstring): its steady residual, unknowns, Dirichlet conditions
    and storage as femiec.studies.small_signal.linearize takes them, and the transfers both ways."""

    residual: object
    unknowns: object
    bcs: list
    storage: Callable
    transfers: list = field(default_factory=list)
    entity_maps: object = None


def _vector(comm, parts) -> PETSc.Vec:
    """The per-rank concatenation of the owned values of PETSc vectors ``parts``."""
    sizes = [p.getLocalSize() for p in parts]
    vec = PETSc.Vec().createMPI((sum(sizes), PETSc.DETERMINE), comm=comm)
    values, offset = vec.getArray(readonly=False), 0
    for part, size in zip(parts, sizes):
        values[offset:offset + size] = part.getArray(readonly=True)
        offset += size
    return vec


def _embedding(layout: _BlockLayout, start: int, block: int) -> PETSc.Mat:
    """E with E[blocked row of dof i of ``block``, i] = 1: rows the blocked layout of ``layout`` (global start
    ``start``), columns the block's own space."""
    comm, owned = layout.comm, layout.owned
    index_map = layout.spaces[block].dofmap.index_map
    rows = np.zeros(sum(owned), dtype=bool)
    rows[sum(owned[:block]):sum(owned[:block + 1])] = True
    return _selection_matrix(comm, rows, index_map.local_range[0] + np.arange(owned[block]), owned[block])


def _selection_matrix(comm, rows: np.ndarray, columns: np.ndarray, local_columns: int) -> PETSc.Mat:
    """An AIJ matrix with one 1 in each owned row where ``rows`` (bool, local) is set, in the global column
    ``columns`` (one per set row), and empty rows elsewhere; ``local_columns`` owned columns per rank."""
    indptr = np.concatenate([[0], np.cumsum(rows)]).astype(PETSc.IntType)
    mat = PETSc.Mat().createAIJ(((len(rows), PETSc.DETERMINE), (local_columns, PETSc.DETERMINE)),
                                csr=(indptr, np.asarray(columns, dtype=PETSc.IntType), np.ones(len(columns))),
                                comm=comm)
    mat.assemble()
    return mat


def _selection(transfer: Transfer, source_layout: _BlockLayout, source_start: int) -> PETSc.Mat:
    """T with T[i, j] = 1 where the transfer carries the source dof j (global index of the source problem's
    blocked layout) to the node i of the field's space: the transfer applied to the global indices."""
    from dolfinx import fem

    space = transfer.field.function_space
    source_space = source_layout.spaces[transfer.block]
    if space.dofmap.index_map_bs != 1 or source_space.dofmap.index_map_bs != 1:
        raise SolverError("coupled small signal: only scalar transferred fields")
    indices = fem.Function(source_space)
    owned = source_layout.owned[transfer.block]
    indices.x.array[:owned] = source_start + sum(source_layout.owned[:transfer.block]) + np.arange(owned)
    indices.x.scatter_forward()
    carried = fem.Function(space)
    transfer.carry(carried, indices)
    rows = space.dofmap.index_map.size_local
    values = carried.x.array[:rows]
    columns = np.rint(values)
    if np.abs(values - columns).max(initial=0.0) > 1e-6:
        raise SolverError("coupled small signal: the transfer is not a nodal selection (the field's nodes do not "
                          "coincide with the source's)")
    found = columns >= 0
    return _selection_matrix(space.mesh.comm, found, columns[found], sum(source_layout.owned))


def _coupling_block(residual, transfer, layout, start, source_layout, source_start, entity_maps):
    """sum_k E_k (dF_k / df) T: the rows of problem ``transfer.problem`` (blocked layout) times the columns of
    the other problem's blocked layout (None when no residual depends on the field)."""
    from dolfinx import fem
    from dolfinx.fem import petsc as fem_petsc
    from ufl.algorithms import expand_derivatives

    rows = list(residual) if isinstance(residual, (list, tuple)) else [residual]
    trial = ufl.TrialFunction(transfer.field.function_space)
    T = _selection(transfer, source_layout, source_start)
    total = None
    for k, F in enumerate(rows):
        if F is None:
            continue
        form = expand_derivatives(ufl.derivative(F, transfer.field, trial))
        if form.empty():
            continue
        A = fem_petsc.assemble_matrix(fem.form(form, entity_maps=entity_maps), bcs=[])
        A.assemble()
        E = _embedding(layout, start, k)
        block = E.matMult(A).matMult(T)
        for obj in (A, E):
            obj.destroy()
        if total is None:
            total = block
        else:
            total.axpy(1.0, block, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
            block.destroy()
    T.destroy()
    return total


def linearize_coupled(port, partner: CoupledProblem) -> Linearization:
    """The monolithic linearization (module docstring) of the port's problem (an
    femiec.studies.impedance.ImpedancePort about a steady state) and its ``partner`` (steady with it)."""
    own = linearize(port.residual, port.unknowns, port.bcs, port.storage, set_input=port.set_input,
                    input_value=port.input_value, input_step=port.input_step, output=port.output,
                    output_rate=port.output_rate, entity_maps=port.entity_maps)
    other = linearize(partner.residual, partner.unknowns, partner.bcs, partner.storage, set_input=lambda value: None,
                      input_value=0.0, input_step=1.0, output=None, entity_maps=partner.entity_maps)
    comm = own.jacobian.getComm()
    sides = [(port.residual, port.functions, port.bcs, port.entity_maps, own),
             (partner.residual, _functions(partner.unknowns), partner.bcs, partner.entity_maps, other)]
    layouts = [_BlockLayout(functions) for _, functions, *_ in sides]
    starts = [lin.jacobian.getOwnershipRange()[0] for *_, lin in sides]
    coupling = [[None, None], [None, None]]
    for transfer in partner.transfers:
        a, b = transfer.problem, 1 - transfer.problem
        residual, _, _, entity_maps, _ = sides[a]
        block = _coupling_block(residual, transfer, layouts[a], starts[a], layouts[b], starts[b], entity_maps)
        if block is None:
            continue
        if coupling[a][b] is None:
            coupling[a][b] = block
        else:
            coupling[a][b].axpy(1.0, block, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
            block.destroy()
    lifts = [own.lift, other.lift]
    forcings = [own.forcing.copy(), other.forcing.copy()]
    for a in (0, 1):
        if coupling[a][1 - a] is not None:
            coupling[a][1 - a].multAdd(lifts[1 - a], forcings[a], forcings[a])
    # MatNest's layout is the per-rank concatenation of its blocks'; convert() turns it into AIJ in place
    # (explicit zeros kept: M's pattern stays within J's, as B = J + omega M needs)
    jacobian = PETSc.Mat().createNest([[own.jacobian, coupling[0][1]], [coupling[1][0], other.jacobian]],
                                      comm=comm).convert("aij")
    mass = PETSc.Mat().createNest([[own.mass, None], [None, other.mass]], comm=comm).convert("aij")
    constrained = [_constrained_rows(bcs, functions, layout)
                   for (_, functions, bcs, _, _), layout in zip(sides, layouts)]
    local = np.concatenate([constrained[0], own.jacobian.getLocalSize()[0] + constrained[1]])
    jacobian.zeroRowsColumns((jacobian.getOwnershipRange()[0] + local).astype(PETSc.IntType), diag=1.0)
    forcing = _vector(comm, forcings)
    forcing.array[local] = 0.0
    zeros = other.lift.copy()
    zeros.set(0.0)
    out = Linearization(
        jacobian, mass, forcing, _vector(comm, [own.mass_forcing, other.mass_forcing]), _vector(comm, lifts),
        _vector(comm, [own.output, zeros]),
        None if own.output_rate is None else _vector(comm, [own.output_rate, zeros]),
        own.output_direct, blocks=own.blocks + other.blocks)
    for obj in [zeros, *forcings] + [c for row in coupling for c in row if c is not None]:
        obj.destroy()
    own.destroy()
    other.destroy()
    return out


def _functions(unknowns) -> list:
    return list(unknowns) if isinstance(unknowns, (list, tuple)) else [unknowns]

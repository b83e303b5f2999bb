"""Assembly of a blocked system (a rectangular array of bilinear forms J_ij and a column of linear forms F_i)
into PETSc objects with DOLFINx's layout, holding at any time only what one block needs.

DOLFINx's block functions hold more than one block's worth at once, and malloc keeps that memory, so it
sets the resident size of every later phase (electrode, 48^3 crop, 2 ranks: benchmarks/README.md):

- ``create_matrix_block`` builds every block's sparsity pattern, then a merged pattern of the whole system
  row by row (a small vector per row: ~1.4 kB per unknown on the electrode's four-field system, ~2.5 times
  the finished matrix). :func:`create_block_matrix` builds each block's pattern, finalises, counts and
  frees it in turn, and preallocates the matrix from the counts alone:

      d_nnz[row] = sum over the row's blocks of its columns owned by this rank,
      o_nnz[row] = sum over the row's blocks of its ghost columns,

  which is what the merged pattern gives (a block's owned columns are owned columns of the stacked
  system, its ghosts are ghosts).
- ``assemble_matrix_block`` and ``assemble_vector_block`` pack the coefficients of every block before the
  first is assembled (the residual: those of all F_i and, for the lifting, of all J_ij: ~100 MB per rank
  at 48^3, the peak of a time step). :func:`assemble_block_matrix` and :func:`assemble_block_residual`
  pack them block by block, and the residual skips the lifting of a column block whose Dirichlet values
  the state already holds (then J_ij (g_j - x0_j) = 0 exactly: Newton iterates after the first).

The layout is DOLFINx's: on each rank the owned dofs of block 0, 1, ... in turn; the local-to-global map
inserts block 0's owned and ghost dofs, then block 1's, ...; the same entries are added in the same
order, so the matrix and the vector are DOLFINx's bit for bit.
"""
from __future__ import annotations

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc


def _stacked_local_to_global(spaces) -> np.ndarray:
    """Global row of each local dof in the stacked numbering, blocks in turn (owned dofs, then ghosts).

    Component k of node g of block f (block size bs_f) owned by rank p is row ``offset[p] + sum_{f' < f}
    n_f'(p) + bs_f (g - start_f(p)) + k``, with n_f(p) the dofs of block f owned by p and ``offset[p]`` the
    owned dofs of all blocks on the ranks before p."""
    maps = [V.dofmap.index_map for V in spaces]
    block_sizes = np.array([V.dofmap.index_map_bs for V in spaces], dtype=np.int64)
    comm = maps[0].comm
    sizes = np.array(comm.allgather([m.size_local for m in maps]), dtype=np.int64) * block_sizes  # [rank, block]
    starts = np.array(comm.allgather([m.local_range[0] for m in maps]), dtype=np.int64)
    rank_offset = np.concatenate([[0], np.cumsum(sizes.sum(axis=1))[:-1]])
    block_offset = np.cumsum(sizes, axis=1) - sizes  # [rank, block]: before block f on that rank
    parts, p = [], comm.rank
    for f, (imap, bs) in enumerate(zip(maps, block_sizes)):
        parts.append(rank_offset[p] + block_offset[p, f] + np.arange(sizes[p, f], dtype=np.int64))
        owners = np.asarray(imap.owners, dtype=np.int64)
        nodes = rank_offset[owners] + block_offset[owners, f] + bs * (np.asarray(imap.ghosts) - starts[owners, f])
        parts.append((nodes[:, None] + np.arange(bs)).ravel())
    return np.concatenate(parts)


def _row_counts(form, row_space, column_space) -> tuple[np.ndarray, np.ndarray]:
    """Owned-column and ghost-column counts of each owned row (dof) of ``form``'s finalised sparsity
    pattern, whose rows and columns are nodes of the spaces (block sizes bs_r, bs_c): a node entry is
    bs_c entries in each of its node's bs_r rows."""
    from dolfinx import fem

    pattern = fem.create_sparsity_pattern(form)
    pattern.finalize()
    columns, offsets = pattern.graph
    rows, owned = row_space.dofmap.index_map.size_local, pattern.column_index_map().size_local
    before = np.zeros(len(columns) + 1, dtype=np.int32)
    np.cumsum(columns < owned, out=before[1:])
    diagonal = before[offsets[1:rows + 1]] - before[offsets[:rows]]
    ghost = np.diff(offsets[:rows + 1]).astype(np.int32) - diagonal
    bs_r, bs_c = row_space.dofmap.index_map_bs, column_space.dofmap.index_map_bs
    return np.repeat(bs_c * diagonal, bs_r), np.repeat(bs_c * ghost, bs_r)


def _owned_dofs(space) -> int:
    return space.dofmap.index_map.size_local * space.dofmap.index_map_bs


def create_block_matrix(forms) -> PETSc.Mat:
    """A PETSc AIJ matrix for the blocked system ``forms`` (a rectangular list of lists of compiled
    ``dolfinx.fem.Form`` or None), laid out as ``dolfinx.fem.petsc.create_matrix_block`` lays it out,
    preallocated block by block (module docstring)."""
    from dolfinx.fem import extract_function_spaces

    row_spaces, column_spaces = extract_function_spaces(forms, 0), extract_function_spaces(forms, 1)
    row_start = np.concatenate([[0], np.cumsum([_owned_dofs(V) for V in row_spaces])])
    d_nnz = np.zeros(row_start[-1], dtype=PETSc.IntType)
    o_nnz = np.zeros(row_start[-1], dtype=PETSc.IntType)
    for i, row in enumerate(forms):
        for j, form in enumerate(row):
            if form is not None:
                diagonal, ghost = _row_counts(form, row_spaces[i], column_spaces[j])
                d_nnz[row_start[i]:row_start[i + 1]] += diagonal
                o_nnz[row_start[i]:row_start[i + 1]] += ghost

    comm = row_spaces[0].mesh.comm
    global_dofs = [sum(V.dofmap.index_map.size_global * V.dofmap.index_map_bs for V in spaces)
                   for spaces in (row_spaces, column_spaces)]
    A = PETSc.Mat().create(comm)
    A.setSizes([(int(row_start[-1]), global_dofs[0]), (sum(_owned_dofs(V) for V in column_spaces), global_dofs[1])])
    A.setFromOptions()
    A.setPreallocationNNZ((d_nnz, o_nnz))
    A.setBlockSizes(1, 1)
    row_lgmap, column_lgmap = (PETSc.LGMap().create(_stacked_local_to_global(spaces).astype(PETSc.IntType),
                                                    comm=PETSc.COMM_SELF) for spaces in (row_spaces, column_spaces))
    A.setLGMap(row_lgmap, column_lgmap)
    row_lgmap.destroy()
    column_lgmap.destroy()
    A.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
    A.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)
    return A


def _index_sets(spaces):
    from dolfinx.cpp.la.petsc import create_index_sets

    return create_index_sets([(V.dofmap.index_map, V.dofmap.index_map_bs) for V in spaces])


def assemble_block_matrix(A: PETSc.Mat, forms, bcs=(), diagonal: float = 1.0) -> PETSc.Mat:
    """Add the blocks of ``forms`` into ``A`` (from :func:`create_block_matrix`), each block's coefficients
    packed just before it is assembled; the rows and columns of the Dirichlet dofs ``bcs`` are zero and
    ``diagonal`` is put on their diagonal, as ``dolfinx.fem.petsc.assemble_matrix_block`` does. ``A`` is
    not finalised (call ``A.assemble()``)."""
    from dolfinx.cpp.fem.petsc import assemble_matrix, insert_diagonal
    from dolfinx.fem import extract_function_spaces
    from dolfinx.fem.assemble import pack_coefficients, pack_constants

    row_sets, column_sets = (_index_sets(extract_function_spaces(forms, k)) for k in (0, 1))
    cpp_bcs = [bc._cpp_object for bc in bcs]
    for i, row in enumerate(forms):
        for j, form in enumerate(row):
            if form is not None:
                block = A.getLocalSubMatrix(row_sets[i], column_sets[j])
                assemble_matrix(block, form._cpp_object, pack_constants(form._cpp_object),
                                pack_coefficients(form._cpp_object), cpp_bcs, True)
                A.restoreLocalSubMatrix(row_sets[i], column_sets[j], block)
    A.assemble(PETSc.Mat.AssemblyType.FLUSH)  # from adding to setting: the Dirichlet diagonal
    for i, row in enumerate(forms):
        for j, form in enumerate(row):
            if form is not None and form.function_spaces[0] is form.function_spaces[1]:
                block = A.getLocalSubMatrix(row_sets[i], column_sets[j])
                insert_diagonal(block, form.function_spaces[0], cpp_bcs, diagonal)
                A.restoreLocalSubMatrix(row_sets[i], column_sets[j], block)
    return A


def dirichlet_values_held(bcs, x0: np.ndarray, comm) -> bool:
    """True when the local array ``x0`` (owned and ghost dofs) equals every Dirichlet value of ``bcs`` on
    all ranks of ``comm``. The lifting term J[:, bc] (g - x0_bc) of a Newton residual is then exactly zero,
    and skipping it spares a pass of the Jacobian kernels over every cell with a constrained dof."""
    gap = np.zeros_like(x0)
    for bc in bcs:
        bc.set(gap, x0, 1.0)
    return comm.allreduce(bool(np.all(gap == 0.0)), op=MPI.LAND)


def assemble_block_residual(b: PETSc.Vec, L, a, bcs=(), x0: PETSc.Vec | None = None,
                            alpha: float = 1.0) -> PETSc.Vec:
    """Add the blocks F_i of ``L`` into the (zeroed) block vector ``b``, lifted by the Dirichlet values of
    ``bcs`` through the blocks J_ij of ``a`` (b_i -= alpha J_ij (g_j - x0_j)), ghosts accumulated, and the
    Dirichlet entries set to alpha (g - x0): ``dolfinx.fem.petsc.assemble_vector_block`` with each block's
    coefficients packed just before it is assembled and no lifting of a column block whose values x0
    already holds (module docstring)."""
    from dolfinx.cpp.la.petsc import get_local_vectors, scatter_local_vectors
    from dolfinx.fem import apply_lifting, assemble_vector, bcs_by_block, extract_function_spaces

    maps = [(form.function_spaces[0].dofmap.index_map, form.function_spaces[0].dofmap.index_map_bs)
            for form in L]
    x0_local = get_local_vectors(x0, maps) if x0 is not None else [None] * len(maps)
    column_bcs = bcs_by_block(extract_function_spaces(a, 1), bcs)
    comm = maps[0][0].comm
    lifted = [j for j, block_bcs in enumerate(column_bcs)
              if block_bcs and (x0 is None or not dirichlet_values_held(block_bcs, x0_local[j], comm))]
    b_local = get_local_vectors(b, maps)
    for i, (b_block, form) in enumerate(zip(b_local, L)):
        assemble_vector(b_block, form)
        for j in lifted:
            if a[i][j] is not None:
                apply_lifting(b_block, [a[i][j]], [column_bcs[j]], [] if x0 is None else [x0_local[j]], alpha)
    scatter_local_vectors(b, b_local, maps)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    offset, values = 0, b.getArray(readonly=False)
    for (imap, bs), block_bcs, x0_block in zip(maps, bcs_by_block(extract_function_spaces(L), bcs), x0_local):
        size = imap.size_local * bs
        for bc in block_bcs:
            bc.set(values[offset:offset + size], x0_block, alpha)
        offset += size
    return b

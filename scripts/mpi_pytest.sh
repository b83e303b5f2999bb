#!/usr/bin/env bash
# Run pytest on every MPI rank (use under mpirun). Rank 0 prints to the terminal; other ranks write
# their output to $FEMIEC_NUMBERS_DIR/pytest-rank<r>.log (shown by `make test` when a rank fails).
rank=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}
dir=${FEMIEC_NUMBERS_DIR:-.pytest-numbers}
mkdir -p "$dir"
if [ "$rank" != 0 ]; then
  exec "$@" >"$dir/pytest-rank$rank.log" 2>&1
fi
exec "$@"

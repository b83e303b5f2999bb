/* The rows of the voxel finite volumes (femiec.homogenization.fv), compiled on first use by
 * femiec.homogenization.kernels. Plain C99, no Python API: the arrays are NumPy's, passed by pointer.
 *
 * A chunk of layers is given as a padded slab of shape (m0, m1, m2): the chunk's own layers 1..m0-2 with
 * one ghost layer on each side along x and a frame of one voxel along y and z (C order). Face conductance
 * between face neighbours p, q across a face normal to axis d (SI units, femiec.homogenization.fv):
 *     one conductivity sigma:  g = sigma A_d / h_d
 *     otherwise:               g = 2 s_p s_q / (s_p + s_q) A_d / h_d,  then 1/g -> 1/g + R_c / A_d
 * with s = lut[value] and R_c = resistance[value_p][value_q] (the two half-voxel resistances and the
 * contact resistance in series). Floating-point operations in the order of the NumPy expressions they
 * replaced (compiled with -ffp-contract=off), so the matrices are bit-identical to theirs. */
#include <stdint.h>

/* neighbour order of a row: -x, -y, -z, +z, +y, +x (ascending global index), their row slots */
static const int SLOT[6] = {0, 1, 2, 4, 5, 6};
static const int AXIS[6] = {0, 1, 2, 2, 1, 0};

/* p runs over the voxels of the own layers of a padded slab of shape (m0, m1, m2) in C order (layers
 * 1..m0-2, rows 1..m1-2, columns 1..m2-2), i over its layers */
#define FOR_OWN_VOXELS(i, p)                                                                              \
    for (int64_t i = 1; i < m0 - 1; ++i)                                                                  \
        for (int64_t row_ = 1; row_ < m1 - 1; ++row_)                                                     \
            for (int64_t column_ = 1, p = (i * m1 + row_) * m2 + 1; column_ < m2 - 1; ++column_, ++p)

static double face_conductance(const uint8_t *value, int64_t p, int64_t q, int d, const double *lut,
                               const double *resistance, double uniform, const double *weight,
                               const double *area)
{
    if (!value)
        return uniform * weight[d];
    double s_p = lut[value[p]], s_q = lut[value[q]];
    double g = 2.0 * s_p * s_q / (s_p + s_q) * weight[d];
    if (resistance)
        g /= 1.0 + g * resistance[256 * value[p] + value[q]] / area[d];
    return g;
}

/* Entries of each row of the unknowns (active voxels) of the own layers, in row order: ``owned`` the
 * diagonal and the neighbours on this rank, ``other`` those on another one: only an x neighbour in the
 * ghost layer below (``lower_other``) or above (``upper_other``) can be another rank's. */
void voxel_row_counts(const uint8_t *active, int64_t m0, int64_t m1, int64_t m2, int lower_other,
                      int upper_other, int32_t *owned, int32_t *other)
{
    const int64_t shift[6] = {-m1 * m2, -m2, -1, 1, m2, m1 * m2};
    int64_t row = 0;
    FOR_OWN_VOXELS(i, p) {
        if (!active[p])
            continue;
        int32_t mine = 1, theirs = 0;
        for (int n = 0; n < 6; ++n) {
            if (!active[p + shift[n]])
                continue;
            if ((n == 0 && i == 1 && lower_other) || (n == 5 && i == m0 - 2 && upper_other))
                ++theirs;
            else
                ++mine;
        }
        owned[row] = mine;
        other[row] = theirs;
        ++row;
    }
}

/* The rows of the unknowns of the own layers, in row order (``index``: global row of every voxel of the
 * slab, -1 = not an unknown), in PETSc's split CSR form: row r (counted from 0 in this chunk) starts at
 * start_d[row0 + r] in ``columns_d``/``values_d`` (the columns rstart..rend-1 of this rank, numbered from
 * rstart, the diagonal included) and at start_o[row0 + r] in ``columns_o``/``values_o`` (the other
 * ranks' columns, global numbers: x neighbours in the ghost layers; NULL on a single rank, which has
 * none), ascending columns; absent neighbours have no entry. ``diagonal`` (per row of the chunk) gets the
 * sum of the face conductances (Dirichlet faces excluded) and, when ``value`` is given, ``row_value`` the
 * voxel value. With
 * ``aggregate`` (the aggregate of every voxel, -1 outside the unknowns) also ``row_aggregate`` and the
 * coarse rows P^T N P of the aggregates first..first+span-1 without their diagonal: ``coarse_columns``
 * (-1 on entry) and ``coarse_values`` (0 on entry), span x 7, one slot per direction in the order -x, -y,
 * -z, (diagonal), +z, +y, +x; each face between two aggregates subtracts its g, summed in row order.
 * Returns the number of rows. */
int64_t voxel_rows(const int32_t *index, const uint8_t *value, int64_t m0, int64_t m1, int64_t m2,
                   const double *lut, const double *resistance, double uniform, const double *weight,
                   const double *area, const int32_t *aggregate, int64_t first, int64_t rstart, int64_t rend,
                   int64_t row0, const int32_t *start_d, int32_t *columns_d, double *values_d,
                   const int32_t *start_o, int32_t *columns_o, double *values_o, double *diagonal,
                   uint8_t *row_value, int32_t *row_aggregate, int32_t *coarse_columns, double *coarse_values)
{
    const int64_t shift[6] = {-m1 * m2, -m2, -1, 1, m2, m1 * m2};
    int64_t row = 0;
    FOR_OWN_VOXELS(i, p) {
        if (index[p] < 0)
            continue;
        int64_t d = start_d[row0 + row], o = start_o ? start_o[row0 + row] : 0, at_diagonal = -1;
        double sum = 0.0;
        for (int n = 0; n < 6; ++n) {
            if (n == 3) /* the diagonal sits between the lower and the upper neighbours */
                at_diagonal = d++;
            int64_t q = p + shift[n];
            int32_t neighbour = index[q];
            if (neighbour < 0)
                continue;
            double g = face_conductance(value, p, q, AXIS[n], lut, resistance, uniform, weight, area);
            if (neighbour >= rstart && neighbour < rend) {
                columns_d[d] = (int32_t)(neighbour - rstart);
                values_d[d++] = -g;
            } else {
                columns_o[o] = neighbour;
                values_o[o++] = -g;
            }
            sum += g;
            if (aggregate && aggregate[q] != aggregate[p]) {
                int64_t c = 7 * ((int64_t)aggregate[p] - first) + SLOT[n];
                coarse_columns[c] = aggregate[q];
                coarse_values[c] -= g;
            }
        }
        columns_d[at_diagonal] = (int32_t)(index[p] - rstart);
        values_d[at_diagonal] = sum;
        diagonal[row] = sum;
        if (value)
            row_value[row] = value[p];
        if (aggregate)
            row_aggregate[row] = aggregate[p];
        ++row;
    }
    return row;
}

/* P^T x for the piecewise-constant interpolation of the aggregates: y[I] = sum of x[i] over the unknowns
 * i with aggregate[i] = I (n unknowns, count aggregates). */
void aggregate_sum(const int32_t *aggregate, const double *x, int64_t n, double *y, int64_t count)
{
    for (int64_t I = 0; I < count; ++I)
        y[I] = 0.0;
    for (int64_t i = 0; i < n; ++i)
        y[aggregate[i]] += x[i];
}

/* z = y + P x: z[i] = y[i] + x[aggregate[i]] (n unknowns; z may be y). */
void aggregate_gather_add(const int32_t *aggregate, const double *x, const double *y, int64_t n, double *z)
{
    for (int64_t i = 0; i < n; ++i)
        z[i] = y[i] + x[aggregate[i]];
}

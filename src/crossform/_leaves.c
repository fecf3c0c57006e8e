/* The reference evaluator's leaf walk and its left fold, compiled (crossform.leafwalk says how
 * it is called; docs/SEMANTICS.md and crossform.evaluator.forest_leaves are the rules).
 *
 * The forest comes as crossform.leafwalk lays it out, once per forest, and checks it there: every
 * tree in preorder, one 16-byte node per entry, so the left child of a split node is the next
 * node and only the right child is stored:
 *
 *     double threshold   a split's threshold; NaN at a leaf
 *     uint32 word        bits 0-29 the feature, bit 30 missing_left, bit 31 a set node; 0 at a leaf
 *     int32  right       the right child; the node itself at a leaf
 *
 * A leaf thus sends every row to itself (x <= NaN is false, and its missing_left is 0), so a
 * walk may step past its leaf without moving: several rows walk together, branch-free, until
 * none of them moves. The walk trusts the child and feature indices (leafwalk checked them); it
 * checks every buffer it is given (format, item size, dimensions, lengths) and refuses a
 * mismatch with LeafBufferError, a ValueError.
 *
 * Only the CPython C API and the buffer protocol: no numpy headers at build time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

typedef struct {
    double threshold;
    uint32_t word;
    int32_t right;
} node_t;

#define FEATURE_MASK 0x3fffffffu
#define MISSING_LEFT_SHIFT 30
#define SET_BIT 0x80000000u

/* Rows walked together (their dependency chains overlap) and rows per block (every tree walks a
 * block before the next tree starts, so a tree stays in cache); measured in bench/bench_leaves.py. */
#define LANES 8
#define BLOCK_ROWS 32768

static PyObject *LeafBufferError;

/* ---------------------------------------------------------------- buffers */

enum kind { KIND_BYTES, KIND_INT64, KIND_FLOAT64, KIND_FLOAT32 };

static const char *kind_name(enum kind kind)
{
    switch (kind) {
    case KIND_BYTES: return "bytes";
    case KIND_INT64: return "int64";
    case KIND_FLOAT64: return "float64";
    default: return "float32";
    }
}

/* The native-order format of one item: numpy writes "l" or "q" for int64, "d" and "f". */
static int format_is(const char *format, enum kind kind)
{
    if (format == NULL)
        format = "B";
    if (format[0] == '@' || format[0] == '=' || format[0] == '<')
        format++;
    if (format[0] == '\0' || format[1] != '\0')
        return 0;
    switch (kind) {
    case KIND_BYTES: return format[0] == 'B' || format[0] == 'b' || format[0] == 'c';
    case KIND_INT64: return format[0] == 'l' || format[0] == 'q';
    case KIND_FLOAT64: return format[0] == 'd';
    default: return format[0] == 'f';
    }
}

static Py_ssize_t item_size(enum kind kind)
{
    switch (kind) {
    case KIND_BYTES: return 1;
    case KIND_FLOAT32: return 4;
    default: return 8;
    }
}

/* A C-contiguous buffer of ndim dimensions of the kind; 0, or -1 with LeafBufferError set. */
static int get_buffer(PyObject *obj, const char *name, enum kind kind, int ndim, int writable, Py_buffer *view)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(LeafBufferError, "%s must be a C-contiguous %s buffer of %d dimension(s); got a %.100s",
                     name, kind_name(kind), ndim, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(LeafBufferError, "%s must be a C-contiguous%s %s buffer of %d dimension(s); got one that is not",
                     name, writable ? ", writable" : "", kind_name(kind), ndim);
        return -1;
    }
    if (!format_is(view->format, kind) || view->itemsize != item_size(kind)) {
        PyErr_Format(LeafBufferError, "%s must hold %s items; got format %.20s of %zd bytes", name,
                     kind_name(kind), view->format ? view->format : "B", view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    if (view->ndim != ndim) {
        PyErr_Format(LeafBufferError, "%s must have %d dimension(s); got %d", name, ndim, view->ndim);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static Py_ssize_t dim(const Py_buffer *view, int i)
{
    return view->ndim == 0 ? 1 : view->shape[i];
}

static void release_all(Py_buffer *views, int n)
{
    for (int i = 0; i < n; i++)
        PyBuffer_Release(&views[i]);
}

/* ---------------------------------------------------------------- the walk */

typedef struct {
    const node_t *nodes;
    const int64_t *starts;      /* n_trees + 1: tree t is nodes[starts[t]:starts[t + 1]] */
    const int64_t *set_nodes;   /* sorted node indices of the set nodes */
    const int64_t *set_offsets; /* n_sets + 1: set s is set_values[set_offsets[s]:set_offsets[s + 1]] */
    const double *set_values;   /* each set sorted */
    const int64_t *original;    /* node index -> the node's index in the forest's own arrays */
    Py_ssize_t n_trees, n_sets, n_features, n_rows;
    const double *X;
    int64_t *out;
    /* the left fold, when asked for: acc[row] += values[leaf], tree by tree, in float64 or float32 */
    Py_ssize_t n_outputs;
    const double *values64;
    double *acc64;
    const float *values32;
    float *acc32;
} walk_t;

/* Row row reached node at (a leaf) in tree t: its leaf in the forest's arrays, and its value added. */
static inline void reached(const walk_t *w, Py_ssize_t t, Py_ssize_t row, int64_t at)
{
    int64_t leaf = w->original[at];
    w->out[t * w->n_rows + row] = leaf;
    const Py_ssize_t n = w->n_outputs;
    if (w->acc64 != NULL) {
        for (Py_ssize_t k = 0; k < n; k++)
            w->acc64[row * n + k] = w->acc64[row * n + k] + w->values64[leaf * n + k];
    } else if (w->acc32 != NULL) {
        for (Py_ssize_t k = 0; k < n; k++)
            w->acc32[row * n + k] = w->acc32[row * n + k] + w->values32[leaf * n + k];
    }
}

/* Whether x is one of the sorted values[0:n] (== compares, so -0.0 is 0.0 and NaN is none). */
static int in_sorted(double x, const double *values, int64_t n)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (values[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && values[lo] == x;
}

/* One row through one tree that has set nodes: a value in the set goes away from the missing
 * side, anything else (NaN included) to it. */
static int64_t walk_with_sets(const walk_t *w, const double *x, int64_t at)
{
    for (;;) {
        const node_t *node = &w->nodes[at];
        if (node->right == at)
            return at;
        int missing_left = (node->word >> MISSING_LEFT_SHIFT) & 1;
        double v = x[node->word & FEATURE_MASK];
        int left;
        if (node->word & SET_BIT) {
            int64_t lo = 0, hi = w->n_sets; /* the set of this node */
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (w->set_nodes[mid] < at)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            int in = lo < w->n_sets && w->set_nodes[lo] == at &&
                     in_sorted(v, w->set_values + w->set_offsets[lo], w->set_offsets[lo + 1] - w->set_offsets[lo]);
            left = in != missing_left;
        } else {
            left = (v <= node->threshold) | ((v != v) & missing_left);
        }
        at = left ? at + 1 : node->right;
    }
}

/* The node after p for the row x: p + 1 (left) or the right child, chosen without a branch (the
 * choice is a coin toss to the branch predictor); pointers, not indices, save the address
 * arithmetic of every step. with_nan 0: x holds no NaN, so the missing_left test is left out (a
 * constant where it is inlined). */
static inline __attribute__((always_inline)) const node_t *step_at(const node_t *nodes, const node_t *p,
                                                                   const double *x, const int with_nan)
{
    double v = x[p->word & FEATURE_MASK];
    uintptr_t left = (uintptr_t)(v <= p->threshold);
    if (with_nan)
        left |= (uintptr_t)(v != v) & (p->word >> MISSING_LEFT_SHIFT);
    uintptr_t mask = (uintptr_t)0 - (left & 1u);
    return (const node_t *)(((uintptr_t)(p + 1) & mask) | ((uintptr_t)(nodes + p->right) & ~mask));
}

/* The rows begin to end through a tree without set nodes, from its root: LANES rows at a time,
 * their steps interleaved so that their chains of loads overlap, all stepping until none moves
 * (a row at its leaf stays there). Handing a finished lane the next row instead keeps every
 * lane busy but mispredicts a branch per row and tree: 14% fewer rows/s on the bench forest. */
static inline __attribute__((always_inline)) void walk_tree(const walk_t *w, Py_ssize_t t, Py_ssize_t begin,
                                                            Py_ssize_t end, const int with_nan)
{
    const node_t *nodes = w->nodes;
    const Py_ssize_t f = w->n_features;
    const node_t *root = nodes + w->starts[t];
    Py_ssize_t i = begin;
    for (; i + LANES <= end; i += LANES) {
        const node_t *at[LANES];
        const double *x = w->X + i * f;
        for (int k = 0; k < LANES; k++)
            at[k] = root;
        for (;;) {
            uintptr_t moved = 0;
            for (int k = 0; k < LANES; k++) {
                const node_t *n = step_at(nodes, at[k], x + k * f, with_nan);
                moved |= (uintptr_t)n ^ (uintptr_t)at[k];
                at[k] = n;
            }
            if (!moved)
                break;
            /* a second step before the next test: a row at its leaf stays there (+4% rows/s) */
            for (int k = 0; k < LANES; k++)
                at[k] = step_at(nodes, at[k], x + k * f, with_nan);
        }
        for (int k = 0; k < LANES; k++)
            reached(w, t, i + k, at[k] - nodes);
    }
    for (; i < end; i++) {
        const node_t *here = root, *moved;
        while ((moved = step_at(nodes, here, w->X + i * f, with_nan)) != here)
            here = moved;
        reached(w, t, i, here - nodes);
    }
}

/* Ask for tree t's nodes, original indices and leaf values ahead of its walk: read in order they
 * stream into the cache, where the walk's own first visits would wait for each line in turn
 * (19% more rows/s on the bench forest). */
static void prefetch_tree(const walk_t *w, Py_ssize_t t)
{
    const int64_t first = w->starts[t], last = w->starts[t + 1];
    const char *p, *stop;
    for (p = (const char *)(w->nodes + first), stop = (const char *)(w->nodes + last); p < stop; p += 64)
        __builtin_prefetch(p);
    for (p = (const char *)(w->original + first), stop = (const char *)(w->original + last); p < stop; p += 64)
        __builtin_prefetch(p);
    if (w->values64 != NULL)
        for (p = (const char *)(w->values64 + first * w->n_outputs),
            stop = (const char *)(w->values64 + last * w->n_outputs);
             p < stop; p += 64)
            __builtin_prefetch(p);
    if (w->values32 != NULL)
        for (p = (const char *)(w->values32 + first * w->n_outputs),
            stop = (const char *)(w->values32 + last * w->n_outputs);
             p < stop; p += 64)
            __builtin_prefetch(p);
}

static void walk_rows(const walk_t *w)
{
    const Py_ssize_t f = w->n_features, n_trees = w->n_trees, n_rows = w->n_rows;
    for (Py_ssize_t block = 0; block < n_rows; block += BLOCK_ROWS) {
        Py_ssize_t end = block + BLOCK_ROWS < n_rows ? block + BLOCK_ROWS : n_rows;
        int with_nan = 0; /* without NaN in the block, each step can skip the missing_left test */
        for (const double *v = w->X + block * f, *stop = w->X + end * f; v < stop; v++)
            with_nan |= *v != *v;
        for (Py_ssize_t t = 0; t < n_trees; t++) {
            int64_t root = w->starts[t];
            const node_t *first = &w->nodes[root];
            if (first->right == root) { /* a single leaf: no feature to read (there may be none) */
                for (Py_ssize_t i = block; i < end; i++)
                    reached(w, t, i, root);
                continue;
            }
            int has_sets = 0;
            if (w->n_sets) { /* the set nodes of tree t lie in [starts[t], starts[t + 1]) */
                int64_t lo = 0, hi = w->n_sets;
                while (lo < hi) {
                    int64_t mid = lo + (hi - lo) / 2;
                    if (w->set_nodes[mid] < root)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                has_sets = lo < w->n_sets && w->set_nodes[lo] < w->starts[t + 1];
            }
            if (has_sets) {
                for (Py_ssize_t i = block; i < end; i++)
                    reached(w, t, i, walk_with_sets(w, w->X + i * f, root));
                continue;
            }
            prefetch_tree(w, t);
            if (with_nan)
                walk_tree(w, t, block, end, 1);
            else
                walk_tree(w, t, block, end, 0);
        }
    }
}

PyDoc_STRVAR(walk_doc,
"walk(nodes, starts, set_nodes, set_offsets, set_values, original, n_features, X, out,\n"
"     values=None, acc=None)\n\n"
"Write into out (int64, trees x rows) the leaf each row of X (float64, C-contiguous, rows x\n"
"n_features) reaches in each tree, as its index in the forest's own arrays (original). The\n"
"forest is crossform.leafwalk's layout, whose indices it has checked. With values (a row per\n"
"node of the forest's arrays, float64 or float32) and acc (rows x outputs, the same dtype),\n"
"also add each tree's leaf value to acc, tree by tree in order (a left fold, each addition\n"
"rounded as numpy's acc + values rounds it).");

/* The kind of a values buffer: float32 when it says so, else float64 (get_buffer then checks). */
static enum kind value_kind(PyObject *obj)
{
    Py_buffer probe;
    enum kind kind = KIND_FLOAT64;
    if (PyObject_GetBuffer(obj, &probe, PyBUF_FORMAT | PyBUF_STRIDES) == 0) {
        if (format_is(probe.format, KIND_FLOAT32) && probe.itemsize == 4)
            kind = KIND_FLOAT32;
        PyBuffer_Release(&probe);
    } else {
        PyErr_Clear();
    }
    return kind;
}

static PyObject *walk(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objs[10];
    Py_ssize_t n_features;
    objs[8] = objs[9] = Py_None;
    if (!PyArg_ParseTuple(args, "OOOOOOnOO|OO:walk", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4], &objs[5],
                          &n_features, &objs[6], &objs[7], &objs[8], &objs[9]))
        return NULL;
    static const char *names[10] = {"nodes", "starts", "set_nodes", "set_offsets", "set_values",
                                    "original", "X", "out", "values", "acc"};
    enum kind kinds[10] = {KIND_BYTES, KIND_INT64, KIND_INT64, KIND_INT64, KIND_FLOAT64,
                           KIND_INT64, KIND_FLOAT64, KIND_INT64, KIND_FLOAT64, KIND_FLOAT64};
    static const int ndims[10] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
    int n_views = 8;
    if (objs[8] != Py_None || objs[9] != Py_None) {
        if (objs[8] == Py_None || objs[9] == Py_None) {
            PyErr_SetString(LeafBufferError, "values and acc come together: the fold needs both");
            return NULL;
        }
        kinds[8] = kinds[9] = value_kind(objs[8]);
        n_views = 10;
    }
    Py_buffer views[10];
    int got = 0;
    for (; got < n_views; got++)
        if (get_buffer(objs[got], names[got], kinds[got], ndims[got], got == 7 || got == 9, &views[got]) < 0)
            goto fail;

    Py_ssize_t node_bytes = views[0].len;
    if (node_bytes % (Py_ssize_t)sizeof(node_t) != 0 || node_bytes / (Py_ssize_t)sizeof(node_t) > INT32_MAX) {
        PyErr_Format(LeafBufferError, "nodes must hold whole %zu-byte nodes, at most 2**31 - 1; got %zd bytes",
                     sizeof(node_t), node_bytes);
        goto fail;
    }
    Py_ssize_t n_nodes = node_bytes / (Py_ssize_t)sizeof(node_t);
    Py_ssize_t n_trees = dim(&views[1], 0) - 1, n_sets = dim(&views[2], 0);
    Py_ssize_t n_rows = dim(&views[6], 0);
    const int64_t *starts = views[1].buf, *offsets = views[3].buf;
    if (n_trees < 0 || starts[0] != 0 || starts[n_trees] != n_nodes) {
        PyErr_Format(LeafBufferError, "starts must run from 0 to the %zd nodes, one entry per tree and one more",
                     n_nodes);
        goto fail;
    }
    for (Py_ssize_t t = 0; t < n_trees; t++)
        if (starts[t + 1] <= starts[t]) {
            PyErr_Format(LeafBufferError, "starts must increase (every tree has a node); tree %zd does not", t);
            goto fail;
        }
    if (dim(&views[3], 0) != n_sets + 1 || offsets[0] != 0 || offsets[n_sets] != dim(&views[4], 0)) {
        PyErr_Format(LeafBufferError, "set_offsets must hold %zd + 1 offsets from 0 to the %zd set values", n_sets,
                     dim(&views[4], 0));
        goto fail;
    }
    for (Py_ssize_t s = 0; s < n_sets; s++)
        if (offsets[s + 1] < offsets[s]) {
            PyErr_Format(LeafBufferError, "set_offsets must not decrease; set %zd does", s);
            goto fail;
        }
    if (dim(&views[5], 0) != n_nodes) {
        PyErr_Format(LeafBufferError, "original must hold one index per node (%zd); got %zd", n_nodes,
                     dim(&views[5], 0));
        goto fail;
    }
    if (n_features < 0 || n_features > (Py_ssize_t)FEATURE_MASK + 1 || dim(&views[6], 1) != n_features) {
        PyErr_Format(LeafBufferError, "X must have the forest's %zd feature columns; got %zd", n_features,
                     dim(&views[6], 1));
        goto fail;
    }
    if (dim(&views[7], 0) != n_trees || dim(&views[7], 1) != n_rows) {
        PyErr_Format(LeafBufferError, "out must be %zd trees x %zd rows; got %zd x %zd", n_trees, n_rows,
                     dim(&views[7], 0), dim(&views[7], 1));
        goto fail;
    }
    Py_ssize_t n_outputs = 0;
    if (n_views == 10) {
        n_outputs = dim(&views[8], 1);
        if (dim(&views[8], 0) != n_nodes) {
            PyErr_Format(LeafBufferError, "values must hold a row per node (%zd); got %zd", n_nodes, dim(&views[8], 0));
            goto fail;
        }
        if (dim(&views[9], 0) != n_rows || dim(&views[9], 1) != n_outputs) {
            PyErr_Format(LeafBufferError, "acc must be %zd rows x %zd outputs; got %zd x %zd", n_rows, n_outputs,
                         dim(&views[9], 0), dim(&views[9], 1));
            goto fail;
        }
    }
    int f32 = n_views == 10 && kinds[8] == KIND_FLOAT32, f64 = n_views == 10 && !f32;
    walk_t w = {views[0].buf, starts, views[2].buf, offsets, views[4].buf, views[5].buf,
                n_trees, n_sets, n_features, n_rows, views[6].buf, views[7].buf,
                n_outputs, f64 ? views[8].buf : NULL, f64 ? views[9].buf : NULL,
                f32 ? views[8].buf : NULL, f32 ? views[9].buf : NULL};
    Py_BEGIN_ALLOW_THREADS
    walk_rows(&w);
    Py_END_ALLOW_THREADS
    release_all(views, n_views);
    Py_RETURN_NONE;
fail:
    release_all(views, got);
    return NULL;
}

/* ---------------------------------------------------------------- the module */

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS, walk_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "crossform._leaves",
    "The reference evaluator's leaf walk and its left fold, compiled (see crossform.leafwalk).", -1, methods,
};

PyMODINIT_FUNC PyInit__leaves(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    LeafBufferError = PyErr_NewException("crossform._leaves.LeafBufferError", PyExc_ValueError, NULL);
    if (LeafBufferError == NULL || PyModule_AddObject(m, "LeafBufferError", LeafBufferError) < 0) {
        Py_XDECREF(LeafBufferError);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(LeafBufferError);
    if (PyModule_AddIntConstant(m, "NODE_BYTES", (long)sizeof(node_t)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

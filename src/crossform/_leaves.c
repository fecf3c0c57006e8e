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
} walk_t;

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

/* The node after at for the row x: at + 1 (left) or the right child, chosen without a branch
 * (the choice is a coin toss to the branch predictor). */
static inline int32_t step(const node_t *nodes, const double *x, int32_t at)
{
    const node_t *node = &nodes[at];
    double v = x[node->word & FEATURE_MASK];
    uint32_t le = (uint32_t)(v <= node->threshold);
    uint32_t nan = (uint32_t)(v != v);
    uint32_t left = le | (nan & (node->word >> MISSING_LEFT_SHIFT));
    uint32_t mask = 0u - (left & 1u);
    return (int32_t)((((uint32_t)at + 1u) & mask) | ((uint32_t)node->right & ~mask));
}

/* n (<= LANES) rows through a tree without set nodes, from the root, stepping together. */
static inline void walk_lanes(const walk_t *w, const double *x, Py_ssize_t n, int64_t root, int32_t *at)
{
    const node_t *nodes = w->nodes;
    const Py_ssize_t f = w->n_features;
    for (Py_ssize_t k = 0; k < LANES; k++)
        at[k] = (int32_t)root;
    if (n == LANES) {
        for (;;) {
            int32_t moved = 0;
            for (int k = 0; k < LANES; k++) {
                int32_t next = step(nodes, x + k * f, at[k]);
                moved |= next ^ at[k];
                at[k] = next;
            }
            if (!moved)
                return;
        }
    }
    for (;;) {
        int32_t moved = 0;
        for (Py_ssize_t k = 0; k < n; k++) {
            int32_t next = step(nodes, x + k * f, at[k]);
            moved |= next ^ at[k];
            at[k] = next;
        }
        if (!moved)
            return;
    }
}

static void walk_rows(const walk_t *w)
{
    const Py_ssize_t f = w->n_features, n_trees = w->n_trees, n_rows = w->n_rows;
    for (Py_ssize_t block = 0; block < n_rows; block += BLOCK_ROWS) {
        Py_ssize_t end = block + BLOCK_ROWS < n_rows ? block + BLOCK_ROWS : n_rows;
        for (Py_ssize_t t = 0; t < n_trees; t++) {
            int64_t root = w->starts[t];
            const node_t *first = &w->nodes[root];
            if (first->right == root) { /* a single leaf: no feature to read (there may be none) */
                for (Py_ssize_t i = block; i < end; i++)
                    w->out[t * n_rows + i] = w->original[root];
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
                    w->out[t * n_rows + i] = w->original[walk_with_sets(w, w->X + i * f, root)];
                continue;
            }
            for (Py_ssize_t i = block; i < end; i += LANES) {
                Py_ssize_t n = end - i < LANES ? end - i : LANES;
                int32_t at[LANES];
                walk_lanes(w, w->X + i * f, n, root, at);
                for (Py_ssize_t k = 0; k < n; k++)
                    w->out[t * n_rows + i + k] = w->original[at[k]];
            }
        }
    }
}

PyDoc_STRVAR(walk_doc,
"walk(nodes, starts, set_nodes, set_offsets, set_values, original, n_features, X, out)\n\n"
"Write into out (int64, trees x rows) the leaf each row of X (float64, C-contiguous, rows x\n"
"n_features) reaches in each tree, as its index in the forest's own arrays (original). The\n"
"forest is crossform.leafwalk's layout, whose indices it has checked.");

static PyObject *walk(PyObject *self, PyObject *args)
{
    PyObject *objs[8];
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "OOOOOOnOO:walk", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4], &objs[5],
                          &n_features, &objs[6], &objs[7]))
        return NULL;
    static const char *names[8] = {"nodes", "starts", "set_nodes", "set_offsets", "set_values", "original", "X", "out"};
    static const enum kind kinds[8] = {KIND_BYTES, KIND_INT64, KIND_INT64, KIND_INT64,
                                       KIND_FLOAT64, KIND_INT64, KIND_FLOAT64, KIND_INT64};
    static const int ndims[8] = {1, 1, 1, 1, 1, 1, 2, 2};
    Py_buffer views[8];
    int got = 0;
    for (; got < 8; got++)
        if (get_buffer(objs[got], names[got], kinds[got], ndims[got], got == 7, &views[got]) < 0)
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
    walk_t w = {views[0].buf, starts, views[2].buf, offsets, views[4].buf, views[5].buf,
                n_trees, n_sets, n_features, n_rows, views[6].buf, views[7].buf};
    Py_BEGIN_ALLOW_THREADS
    walk_rows(&w);
    Py_END_ALLOW_THREADS
    release_all(views, 8);
    Py_RETURN_NONE;
fail:
    release_all(views, got);
    return NULL;
}

/* ---------------------------------------------------------------- the fold */

PyDoc_STRVAR(fold_doc,
"fold(leaves, values, acc)\n\n"
"acc[i] += values[leaves[t, i]] for each tree t in order: the left fold of the leaf values,\n"
"each addition rounded as numpy's acc + values rounds it. values and acc are both float64\n"
"or both float32; leaves (int64, trees x rows) index values' rows, each checked.");

#define FOLD(T)                                                                                  \
    static int64_t fold_##T(const int64_t *leaves, const T *values, T *acc, Py_ssize_t n_rows,    \
                            Py_ssize_t n_trees, Py_ssize_t n_outputs, Py_ssize_t n_nodes)         \
    {                                                                                             \
        for (Py_ssize_t t = 0; t < n_trees; t++) {                                                \
            const int64_t *tree = leaves + t * n_rows;                                            \
            for (Py_ssize_t i = 0; i < n_rows; i++) {                                             \
                int64_t leaf = tree[i];                                                           \
                if (leaf < 0 || leaf >= n_nodes)                                                  \
                    return t * n_rows + i;                                                        \
                const T *v = values + leaf * n_outputs;                                           \
                T *a = acc + i * n_outputs;                                                       \
                for (Py_ssize_t k = 0; k < n_outputs; k++)                                        \
                    a[k] = a[k] + v[k];                                                           \
            }                                                                                     \
        }                                                                                         \
        return -1;                                                                                \
    }
FOLD(double)
FOLD(float)

static PyObject *fold(PyObject *self, PyObject *args)
{
    PyObject *leaves_obj, *values_obj, *acc_obj;
    if (!PyArg_ParseTuple(args, "OOO:fold", &leaves_obj, &values_obj, &acc_obj))
        return NULL;
    Py_buffer views[3];
    int got = 0;
    if (get_buffer(leaves_obj, "leaves", KIND_INT64, 2, 0, &views[0]) < 0)
        goto fail;
    got = 1;
    /* float64 unless values are float32 */
    enum kind kind = KIND_FLOAT64;
    Py_buffer probe;
    if (PyObject_GetBuffer(values_obj, &probe, PyBUF_FORMAT | PyBUF_STRIDES) == 0) {
        if (format_is(probe.format, KIND_FLOAT32) && probe.itemsize == 4)
            kind = KIND_FLOAT32;
        PyBuffer_Release(&probe);
    } else {
        PyErr_Clear();
    }
    if (get_buffer(values_obj, "values", kind, 2, 0, &views[1]) < 0)
        goto fail;
    got = 2;
    if (get_buffer(acc_obj, "acc", kind, 2, 1, &views[2]) < 0)
        goto fail;
    got = 3;
    Py_ssize_t n_trees = views[0].shape[0], n_rows = views[0].shape[1];
    Py_ssize_t n_nodes = views[1].shape[0], n_outputs = views[1].shape[1];
    if (views[2].shape[0] != n_rows || views[2].shape[1] != n_outputs) {
        PyErr_Format(LeafBufferError, "acc must be %zd rows x %zd outputs; got %zd x %zd", n_rows, n_outputs,
                     views[2].shape[0], views[2].shape[1]);
        goto fail;
    }
    int64_t bad;
    Py_BEGIN_ALLOW_THREADS
    if (kind == KIND_FLOAT32)
        bad = fold_float(views[0].buf, views[1].buf, views[2].buf, n_rows, n_trees, n_outputs, n_nodes);
    else
        bad = fold_double(views[0].buf, views[1].buf, views[2].buf, n_rows, n_trees, n_outputs, n_nodes);
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(LeafBufferError, "leaves must index the %zd rows of values; got %lld at tree %zd, row %zd",
                     n_nodes, (long long)((const int64_t *)views[0].buf)[bad], (Py_ssize_t)(bad / n_rows),
                     (Py_ssize_t)(bad % n_rows));
        goto fail;
    }
    release_all(views, 3);
    Py_RETURN_NONE;
fail:
    release_all(views, got);
    return NULL;
}

/* ---------------------------------------------------------------- the module */

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS, walk_doc},
    {"fold", fold, METH_VARARGS, fold_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "crossform._leaves",
    "The reference evaluator's leaf walk and leaf-value fold, compiled (see crossform.leafwalk).", -1, methods,
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

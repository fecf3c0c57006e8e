/*
 * How fast this CPU walks the bench forest at all: the block walk of crossform's Java scorer
 * (Tree.leaves: blocks of rows, each tree read into cache once a block, 8 rows in step through
 * 16-byte preorder nodes, the child chosen by the sign of v - threshold) written in C, and the
 * same leaves found with AVX-512 gathers (8 rows a vector, 4 vectors in step). Each variant
 * also folds the leaf values per row in tree order, as a batch does. bench_walk_limit.py writes
 * the inputs, compiles this file and checks every leaf against scikit-learn's.
 *
 *   walk_limit DIR VARIANT BLOCK_ROWS REPEAT
 *
 * DIR holds nodes.bin (per node: the threshold's bits, then feature << 32 | right child's distance
 * past the left one; -1 and -1 at a leaf), values.bin (2 values a node), offsets.bin (each
 * tree's first node, then the node count) and rows.bin (FEATURES float64 a row). VARIANT is
 * "scalar" or "avx512". Prints one JSON object; writes DIR/leaves-VARIANT.bin, each row's leaf
 * preorder position in each tree (int32, row-major), recorded in one more pass after the timed
 * ones (the timed passes write no leaves, as the Spark path asks for none).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define FEATURES 20
#define STRIDE (FEATURES + 1) /* a pad (+inf) before each row: what a walk at a leaf reads */
#define VECTORS 4

static void *read_file(const char *dir, const char *name, long *size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "walk_limit: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = malloc(*size > 0 ? *size : 1);
    if (!data || fread(data, 1, *size, f) != (size_t)*size) {
        fprintf(stderr, "walk_limit: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    return data;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* One step from node p (split: its second word); a leaf goes to itself. */
static inline int64_t step(const int64_t *nodes, int64_t p, int64_t split, const double *row) {
    double v = row[split >> 32];
    double t;
    memcpy(&t, &nodes[2 * p], sizeof t);
    double d = v - t;
    int64_t over;
    memcpy(&over, &d, sizeof over);
    int64_t right = -over >> 63; /* all ones when v > t */
    return p + 1 + ((int64_t)(int32_t)split & right);
}

static int64_t walk_one(const int64_t *nodes, const double *row) {
    int64_t p = 0, split;
    while ((split = nodes[2 * p + 1]) >= 0) p = step(nodes, p, split, row);
    return p;
}

/* 8 rows in step until the deepest of them reaches its leaf, as Tree.leaves walks. */
static void leaves_scalar(const int64_t *nodes, const double *block, int count, int32_t *into) {
    int i = 0;
    for (; i + 8 <= count; i += 8) {
        const double *r[8];
        int64_t p[8] = {0};
        for (int j = 0; j < 8; j++) r[j] = block + (int64_t)(i + j) * STRIDE + 1;
        for (;;) {
            int64_t s0 = nodes[2 * p[0] + 1], s1 = nodes[2 * p[1] + 1], s2 = nodes[2 * p[2] + 1], s3 = nodes[2 * p[3] + 1];
            int64_t s4 = nodes[2 * p[4] + 1], s5 = nodes[2 * p[5] + 1], s6 = nodes[2 * p[6] + 1], s7 = nodes[2 * p[7] + 1];
            if ((s0 & s1 & s2 & s3 & s4 & s5 & s6 & s7) < 0) break;
            p[0] = step(nodes, p[0], s0, r[0]);
            p[1] = step(nodes, p[1], s1, r[1]);
            p[2] = step(nodes, p[2], s2, r[2]);
            p[3] = step(nodes, p[3], s3, r[3]);
            p[4] = step(nodes, p[4], s4, r[4]);
            p[5] = step(nodes, p[5], s5, r[5]);
            p[6] = step(nodes, p[6], s6, r[6]);
            p[7] = step(nodes, p[7], s7, r[7]);
        }
        for (int j = 0; j < 8; j++) into[i + j] = (int32_t)p[j];
    }
    for (; i < count; i++) into[i] = (int32_t)walk_one(nodes, block + (int64_t)i * STRIDE + 1);
}

#ifdef __AVX512F__
/* 8 rows a vector, VECTORS vectors in step: per step and vector, three gathers (the nodes'
 * second words, their thresholds, the rows' values) and the child chosen under a mask. */
static void leaves_avx512(const int64_t *nodes, const double *block, int count, int32_t *into) {
    const __m512i one = _mm512_set1_epi64(1), zero = _mm512_setzero_si512();
    const __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    int i = 0;
    for (; i + 8 * VECTORS <= count; i += 8 * VECTORS) {
        __m512i base[VECTORS], p[VECTORS];
        for (int k = 0; k < VECTORS; k++) {
            __m512i rows = _mm512_add_epi64(lanes, _mm512_set1_epi64(i + 8 * k));
            base[k] = _mm512_add_epi64(_mm512_mullo_epi64(rows, _mm512_set1_epi64(STRIDE)), one);
            p[k] = zero;
        }
        for (;;) {
            __m512i at[VECTORS], split[VECTORS];
            __mmask8 leaves = 0xff;
            for (int k = 0; k < VECTORS; k++) {
                at[k] = _mm512_add_epi64(p[k], p[k]);
                split[k] = _mm512_i64gather_epi64(at[k], (const long long *)(nodes + 1), 8);
                leaves &= _mm512_cmplt_epi64_mask(split[k], zero);
            }
            if (leaves == 0xff) break;
            for (int k = 0; k < VECTORS; k++) {
                __m512d threshold = _mm512_i64gather_pd(at[k], nodes, 8);
                __m512d v = _mm512_i64gather_pd(_mm512_add_epi64(base[k], _mm512_srai_epi64(split[k], 32)), block, 8);
                __mmask8 right = _mm512_cmp_pd_mask(v, threshold, _CMP_GT_OQ);
                __m512i skip = _mm512_srai_epi64(_mm512_slli_epi64(split[k], 32), 32);
                __m512i left = _mm512_add_epi64(p[k], one);
                p[k] = _mm512_mask_add_epi64(left, right, left, skip);
            }
        }
        for (int k = 0; k < VECTORS; k++) {
            long long got[8];
            _mm512_storeu_si512(got, p[k]);
            for (int j = 0; j < 8; j++) into[i + 8 * k + j] = (int32_t)got[j];
        }
    }
    for (; i < count; i++) into[i] = (int32_t)walk_one(nodes, block + (int64_t)i * STRIDE + 1);
}
#endif

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: walk_limit DIR scalar|avx512 BLOCK_ROWS REPEAT\n");
        return 2;
    }
    const char *dir = argv[1], *variant = argv[2];
    int block_rows = atoi(argv[3]), repeat = atoi(argv[4]);
    void (*walk)(const int64_t *, const double *, int, int32_t *) = NULL;
    if (strcmp(variant, "scalar") == 0) walk = leaves_scalar;
#ifdef __AVX512F__
    if (strcmp(variant, "avx512") == 0) walk = leaves_avx512;
#endif
    if (!walk) {
        fprintf(stderr, "walk_limit: variant %s is not built here (AVX-512 needs a CPU and compiler that have it)\n", variant);
        return 3;
    }
    if (block_rows < 8 || repeat < 1) {
        fprintf(stderr, "walk_limit: BLOCK_ROWS must be at least 8 and REPEAT at least 1\n");
        return 2;
    }
    long size;
    const int64_t *nodes = read_file(dir, "nodes.bin", &size);
    const double *values = read_file(dir, "values.bin", &size);
    const int64_t *offsets = read_file(dir, "offsets.bin", &size);
    int trees = (int)(size / 8 - 1);
    const double *x = read_file(dir, "rows.bin", &size);
    int64_t rows = size / 8 / FEATURES;

    double *block = malloc(sizeof(double) * block_rows * STRIDE);
    int32_t *found = malloc(sizeof(int32_t) * block_rows);
    int32_t *leaves = malloc(sizeof(int32_t) * rows * trees);
    double *sums = malloc(sizeof(double) * 2 * rows);
    double best = INFINITY, total = 0.0;
    int64_t sink = 0;
    for (int pass = 0; pass < repeat + 2; pass++) { /* pass 0 warms up; the last records the leaves; neither is timed */
        int record = pass == repeat + 1;
        double start = seconds();
        for (int64_t from = 0; from < rows; from += block_rows) {
            int count = (int)(rows - from < block_rows ? rows - from : block_rows);
            for (int i = 0; i < count; i++) {
                block[(int64_t)i * STRIDE] = INFINITY;
                for (int f = 0; f < FEATURES; f++) block[(int64_t)i * STRIDE + 1 + f] = x[(from + i) * FEATURES + f] + 0.0;
            }
            memset(sums + 2 * from, 0, sizeof(double) * 2 * count);
            for (int t = 0; t < trees; t++) {
                const int64_t *tree = nodes + 2 * offsets[t];
                const double *value = values + 2 * offsets[t];
                int64_t n = offsets[t + 1] - offsets[t];
                for (int64_t j = 1; j < 2 * n; j += 8) sink += tree[j]; /* read the tree once in order, as Tree.leaves does */
                walk(tree, block, count, found);
                for (int i = 0; i < count; i++) {
                    sums[2 * (from + i)] += value[2 * found[i]];
                    sums[2 * (from + i) + 1] += value[2 * found[i] + 1];
                    if (record) leaves[(from + i) * trees + t] = found[i];
                }
            }
        }
        double elapsed = seconds() - start;
        if (pass > 0 && !record) {
            total += elapsed;
            if (elapsed < best) best = elapsed;
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/leaves-%s.bin", dir, variant);
    FILE *out = fopen(path, "wb");
    if (!out || fwrite(leaves, sizeof(int32_t), rows * trees, out) != (size_t)(rows * trees) || fclose(out) != 0) {
        fprintf(stderr, "walk_limit: cannot write %s\n", path);
        return 2;
    }
    printf("{\"variant\": \"%s\", \"rows\": %" PRId64 ", \"trees\": %d, \"block_rows\": %d, \"repeat\": %d, \"best_s\": %.6f, "
           "\"mean_s\": %.6f, \"rows_per_s\": %.1f, \"sink\": %" PRId64 "}\n",
           variant, rows, trees, block_rows, repeat, best, total / repeat, rows / best, sink & 1);
    return 0;
}

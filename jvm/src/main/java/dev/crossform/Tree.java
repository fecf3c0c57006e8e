package dev.crossform;

/**
 * One tree, expanded to per-node arrays in the bonsai file's level order (the EXPANDED layout):
 * node 0 is the root, a split's children are {@code left[n]} and {@code right[n]}, a leaf has
 * feature -1. {@code preorder[n]} is node n's preorder position (root 0, then the left subtree,
 * then the right), the name a leaf has in every format. About 40 bytes a node, and the fastest
 * walk; {@link CompactTree} keeps the file's encoding instead.
 */
public final class Tree implements DecisionTree {
    final int[] feature;
    final double[] threshold;
    final boolean[] missingLeft;
    final int[] left;
    final int[] right;
    /** Per node, null or its set (a set split), strictly rising finite values. */
    final double[][] sets;
    /** Per node, {@code width} leaf values (zeros at splits), row-major. */
    final double[] value;
    final int width;
    final int[] preorder;

    Tree(int[] feature, double[] threshold, boolean[] missingLeft, int[] left, int[] right, double[][] sets, double[] value, int width) {
        this.feature = feature;
        this.threshold = threshold;
        this.missingLeft = missingLeft;
        this.left = left;
        this.right = right;
        this.sets = sets;
        this.value = value;
        this.width = width;
        this.preorder = preorderPositions(left, right);
    }

    @Override
    public int nodes() {
        return feature.length;
    }

    @Override
    public long reach(double[] x) {
        int node = leaf(x);
        return ((long) preorder[node] << 32) | node;
    }

    @Override
    public double value(int node, int k) {
        return value[node * width + k];
    }

    @Override
    public Tree expanded() {
        return this;
    }

    /** The node a row whose model inputs are {@code x} reaches (the rules of docs/SEMANTICS.md). */
    int leaf(double[] x) {
        int node = 0;
        while (feature[node] >= 0) {
            double v = x[feature[node]];
            boolean goLeft;
            double[] set = sets == null ? null : sets[node];
            if (set != null) {
                // in the set: away from the missing side; NaN and every other value: the missing side
                goLeft = contains(set, v) != missingLeft[node];
            } else if (Double.isNaN(v)) {
                goLeft = missingLeft[node];
            } else {
                goLeft = v <= threshold[node];
            }
            node = goLeft ? left[node] : right[node];
        }
        return node;
    }

    /** Exact float64 membership (-0.0 equals 0.0; NaN is in no set). */
    static boolean contains(double[] set, double v) {
        return contains(set, 0, set.length, v);
    }

    /** Exact membership in {@code set[from .. to)}. */
    static boolean contains(double[] set, int from, int to, double v) {
        int lo = from;
        int hi = to - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            double s = set[mid];
            if (s < v) {
                lo = mid + 1;
            } else if (s > v) {
                hi = mid - 1;
            } else {
                return s == v;
            }
        }
        return false;
    }

    private static int[] preorderPositions(int[] left, int[] right) {
        int n = left.length;
        int[] position = new int[n];
        int[] stack = new int[n + 1];
        int top = 0;
        int next = 0;
        stack[top++] = 0;
        while (top > 0) {
            int node = stack[--top];
            position[node] = next++;
            if (left[node] >= 0) {
                stack[top++] = right[node];
                stack[top++] = left[node];
            }
        }
        return position;
    }
}

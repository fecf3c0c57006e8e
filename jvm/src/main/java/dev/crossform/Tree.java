package dev.crossform;

/**
 * One tree, expanded to one array of nodes in preorder (the EXPANDED layout): node 0 is the root,
 * a split's left child is the node after it and its right child is stored with it, so a node's
 * position is its preorder position, the name a leaf has in every format. Each node is two longs
 * side by side in {@code nodes}: its threshold's bits, then its feature (high 32 bits; -1 at a
 * leaf) and its right child (low 32 bits). A row's walk reads one pair per level, and going left
 * reads the next pair, on the same cache line or the next; the missing directions, sets and leaf
 * values, read at a NaN, a set split or the leaf only, are arrays of their own. 17 bytes a node
 * plus 8 per output, and the fastest walk; {@link CompactTree} keeps the file's encoding instead.
 */
final class Tree implements DecisionTree {
    /** Per node p, {@code nodes[2p]} its threshold's raw bits, {@code nodes[2p + 1]} its feature and right child. */
    private final long[] nodes;
    private final boolean[] missingLeft;
    /** Null, or per node null or its set (a set split), strictly rising finite values. */
    private final double[][] sets;
    /** Per node, {@code width} values (zeros at splits), row-major. */
    private final double[] value;
    private final int width;

    /**
     * A tree given in any node numbering, as the readers check it (one tree from node 0; a leaf
     * has feature -1 and children -1): {@code left[n]}, {@code right[n]} the children of node n,
     * {@code sets} null or per node null or its set, {@code value} width values per node.
     */
    Tree(int[] feature, double[] threshold, boolean[] missingLeft, int[] left, int[] right, double[][] sets, double[] value, int width) {
        int n = feature.length;
        int[] order = preorder(left, right);  // order[p]: the node at preorder position p
        int[] position = new int[n];
        for (int p = 0; p < n; p++) position[order[p]] = p;
        this.nodes = new long[2 * n];
        this.missingLeft = new boolean[n];
        this.sets = sets == null ? null : new double[n][];
        this.value = new double[n * width];
        this.width = width;
        for (int p = 0; p < n; p++) {
            int node = order[p];
            int rightChild = right[node] < 0 ? right[node] : position[right[node]];
            nodes[2 * p] = Double.doubleToRawLongBits(threshold[node]);
            nodes[2 * p + 1] = ((long) feature[node] << 32) | (rightChild & 0xffffffffL);
            this.missingLeft[p] = missingLeft[node];
            if (sets != null) this.sets[p] = sets[node];
            System.arraycopy(value, node * width, this.value, p * width, width);
        }
    }

    @Override
    public int nodes() {
        return missingLeft.length;
    }

    /** The leaf's preorder position is also its handle. */
    @Override
    public long reach(double[] x) {
        int p = leaf(x);
        return ((long) p << 32) | p;
    }

    @Override
    public double value(int p, int k) {
        return value[p * width + k];
    }

    @Override
    public Tree expanded() {
        return this;
    }

    /** The preorder position of the leaf a row whose model inputs are {@code x} reaches (the rules of docs/SEMANTICS.md). */
    int leaf(double[] x) {
        int p = 0;
        long split;
        while ((split = nodes[2 * p + 1]) >= 0) p = next(p, split, x);  // a leaf's feature, -1, makes the pair negative
        return p;
    }

    /**
     * The leaf one row reaches in each of {@code trees[from .. to)}, as {@link #reach} packs it,
     * into {@code reached[from .. to)}; the trees walked a level at a time: every tree's next node
     * is asked for before the first answer is needed, so the memory waits of the trees overlap
     * instead of following one another. The same leaves as {@link #leaf}, tree by tree. Through
     * the jvm runtime, where each row finds the trees out of cache, a bench-forest row took
     * 45-60 us less this way; on rows scored back to back (trees in cache) it is a few us slower.
     */
    static void reach(Tree[] trees, int from, int to, double[] x, long[] reached) {
        int live = to - from;
        int[] walking = new int[live];  // the trees still walking, then where each one is
        int[] at = new int[live];
        for (int i = 0; i < live; i++) walking[i] = from + i;
        while (live > 0) {
            for (int i = 0; i < live; ) {
                Tree tree = trees[walking[i]];
                int p = at[i];
                long split = tree.nodes[2 * p + 1];
                if (split >= 0) {
                    at[i++] = tree.next(p, split, x);
                } else {  // at its leaf: the position is also the handle; the last walker takes its place
                    reached[walking[i]] = ((long) p << 32) | p;
                    live--;
                    walking[i] = walking[live];
                    at[i] = at[live];
                }
            }
        }
    }

    /** The child of split p ({@code split}: its feature and right child) that the row goes to. */
    private int next(int p, long split, double[] x) {
        double v = x[(int) (split >>> 32)];
        boolean goLeft;
        double[] set = sets == null ? null : sets[p];
        if (set != null) {
            // in the set: away from the missing side; NaN and every other value: the missing side
            goLeft = contains(set, v) != missingLeft[p];
        } else if (Double.isNaN(v)) {
            goLeft = missingLeft[p];
        } else {
            goLeft = v <= Double.longBitsToDouble(nodes[2 * p]);
        }
        return goLeft ? p + 1 : (int) split;
    }

    // ------------------------------------------------ node p's fields, in preorder (what the id hashes)

    int feature(int p) {
        return (int) (nodes[2 * p + 1] >> 32);
    }

    double threshold(int p) {
        return Double.longBitsToDouble(nodes[2 * p]);
    }

    boolean missingLeft(int p) {
        return missingLeft[p];
    }

    /** The left child's preorder position, -1 at a leaf. */
    int left(int p) {
        return feature(p) < 0 ? -1 : p + 1;
    }

    /** The right child's preorder position, -1 at a leaf. */
    int right(int p) {
        return (int) nodes[2 * p + 1];
    }

    /** Null, or node p's set. */
    double[] set(int p) {
        return sets == null ? null : sets[p];
    }

    boolean hasSets() {
        return sets != null;
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

    /** The nodes in preorder: the root, then its left subtree, then its right. */
    private static int[] preorder(int[] left, int[] right) {
        int n = left.length;
        int[] order = new int[n];
        int[] stack = new int[n + 1];
        int top = 0;
        int next = 0;
        stack[top++] = 0;
        while (top > 0) {
            int node = stack[--top];
            order[next++] = node;
            if (left[node] >= 0) {
                stack[top++] = right[node];
                stack[top++] = left[node];
            }
        }
        return order;
    }
}

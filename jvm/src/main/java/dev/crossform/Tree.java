package dev.crossform;

/**
 * One tree, expanded to one array of nodes in preorder (the EXPANDED layout): node 0 is the root,
 * a split's left child is the node after it and its right child is stored with it, so a node's
 * position is its preorder position, the name a leaf has in every format. Each node is two longs
 * side by side in {@code nodes}: its threshold's bits, then its feature (high 32 bits; -1 at a
 * leaf) and how far its right child lies past its left one, the next node (low 32 bits; -1 at a
 * leaf, which so names itself: the batch walk {@link #leaves} stays there). A row's walk reads one pair per level, and going left
 * reads the next pair, on the same cache line or the next; the missing directions, sets and leaf
 * values, read at a NaN, a set split or the leaf only, are arrays of their own. 17 bytes a node
 * plus 8 per output, and the fastest walk; {@link CompactTree} keeps the file's encoding instead.
 */
final class Tree implements DecisionTree {
    /** Per node p, {@code nodes[2p]} its threshold's raw bits, {@code nodes[2p + 1]} its feature and its right child's distance past p + 1. */
    private final long[] nodes;
    private final boolean[] missingLeft;
    /** Null, or per node null or its set (a set split), strictly rising finite values. */
    private final double[][] sets;
    /** Per node, {@code width} values (zeros at splits), row-major. */
    private final double[] value;
    private final int width;
    /** True when {@link #leaves} can walk this tree: no set split, no NaN threshold, no leaf threshold +inf. */
    private final boolean blockWalk;

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
            // the right child's distance past the left one; a leaf's "right child" is itself (-1): see leaves()
            int rightSkip = feature[node] < 0 ? -1 : position[right[node]] - (p + 1);
            nodes[2 * p] = Double.doubleToRawLongBits(threshold[node]);
            nodes[2 * p + 1] = ((long) feature[node] << 32) | (rightSkip & 0xffffffffL);
            this.missingLeft[p] = missingLeft[node];
            if (sets != null) this.sets[p] = sets[node];
            System.arraycopy(value, node * width, this.value, p * width, width);
        }
        boolean walkable = true;
        if (sets != null) {
            for (double[] set : sets) walkable &= set == null;
        }
        for (int node = 0; node < n; node++) {
            double t = threshold[node];
            walkable &= !Double.isNaN(t) && (feature[node] >= 0 || t != Double.POSITIVE_INFINITY);
        }
        this.blockWalk = walkable;
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
     * Trees that all {@link #blockWalks} are walked faster by {@link #reachInStep}.
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

    /**
     * {@link #reach(Tree[], int, int, double[], long[])}'s leaves, for trees that all
     * {@link #blockWalks}: 8 trees walked in step with {@link #leaves}'s branch-free step, on a
     * copy of the row behind a {@link #PAD}, each tree's next node read before any child is chosen
     * so that the 8 memory waits overlap, and no list of walkers to keep. A row with a NaN or an
     * infinity is walked by {@link #reach(Tree[], int, int, double[], long[])}, whose rules for
     * them are more than one comparison; -0.0 is copied as 0.0 (they compare alike). The bench
     * forest, one thread, rows scored back to back through {@code score}: 17.4-19.5 us a row
     * against 37.9 us a level at a time (8, 16 or 32 trees walking, a finished walk's place refilled
     * with the next tree: 22.8-28 us).
     */
    static void reachInStep(Tree[] trees, int from, int to, double[] x, long[] reached) {
        double[] row = new double[x.length + 1];
        row[0] = PAD;
        for (int j = 0; j < x.length; j++) {
            double v = x[j];
            if (!Double.isFinite(v)) {
                reach(trees, from, to, x, reached);
                return;
            }
            row[j + 1] = v + 0.0;
        }
        int t = from;
        for (; t + 8 <= to; t += 8) {
            long[] n0 = trees[t].nodes, n1 = trees[t + 1].nodes, n2 = trees[t + 2].nodes, n3 = trees[t + 3].nodes;
            long[] n4 = trees[t + 4].nodes, n5 = trees[t + 5].nodes, n6 = trees[t + 6].nodes, n7 = trees[t + 7].nodes;
            int p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
            while (true) {
                long s0 = n0[2 * p0 + 1], s1 = n1[2 * p1 + 1], s2 = n2[2 * p2 + 1], s3 = n3[2 * p3 + 1];
                long s4 = n4[2 * p4 + 1], s5 = n5[2 * p5 + 1], s6 = n6[2 * p6 + 1], s7 = n7[2 * p7 + 1];
                if ((s0 & s1 & s2 & s3 & s4 & s5 & s6 & s7) < 0) break;  // every tree at its leaf
                p0 = step(n0, p0, s0, row, 1);
                p1 = step(n1, p1, s1, row, 1);
                p2 = step(n2, p2, s2, row, 1);
                p3 = step(n3, p3, s3, row, 1);
                p4 = step(n4, p4, s4, row, 1);
                p5 = step(n5, p5, s5, row, 1);
                p6 = step(n6, p6, s6, row, 1);
                p7 = step(n7, p7, s7, row, 1);
            }
            reached[t] = ((long) p0 << 32) | p0;  // a position is also the handle
            reached[t + 1] = ((long) p1 << 32) | p1;
            reached[t + 2] = ((long) p2 << 32) | p2;
            reached[t + 3] = ((long) p3 << 32) | p3;
            reached[t + 4] = ((long) p4 << 32) | p4;
            reached[t + 5] = ((long) p5 << 32) | p5;
            reached[t + 6] = ((long) p6 << 32) | p6;
            reached[t + 7] = ((long) p7 << 32) | p7;
        }
        for (; t < to; t++) {  // the trees left over: one walk each
            int p = walk(trees[t].nodes, row, 1);
            reached[t] = ((long) p << 32) | p;
        }
    }

    /** The pad before each row of a {@link #leaves} block: what a walk at a leaf reads (+inf: above every leaf threshold, so it goes "right", to itself). */
    static final double PAD = Double.POSITIVE_INFINITY;

    /** Written only when a {@link #leaves} warm-up sum happens to be 42: it keeps the sum, and so the reads, from being dropped. */
    private static int warmedSink;

    /**
     * The leaf each of {@code count} rows of a block reaches, into {@code into[i]} for the row at
     * {@code block[starts[i] ...]}: {@link #PAD} there, then the row's model inputs. Only for a tree
     * that {@link #blockWalks} and rows of finite values, none -0.0 (a caller adds 0.0): there
     * {@link #next}'s rules are the one comparison {@code v <= threshold}, decided here by the sign
     * of {@code v - threshold} (exact: a difference of finite values, or of a finite value and an
     * infinite threshold, is 0 only when they are equal, and then +0.0), so each row's leaf is
     * the one {@link #leaf} finds.
     *
     * <p>First the tree's nodes and leaf values are read once in order (the prefetcher streams
     * them into cache: the tree was evicted by the other trees since the last block, and its
     * deep nodes would otherwise each be a miss; bench forest, one thread, 2,048-row blocks: 90k
     * rows/s without, 130k with). Then 8 rows are walked in step, every walk's node read before
     * any child is chosen, so their loads overlap, and the child chosen with arithmetic, not a
     * branch a row's values would mispredict. A leaf is its own right child and reads the pad
     * (feature -1), so a walk at its leaf stays there, unbranched, until its group's deepest walk
     * arrives. (Measured and dropped: 4, 6 and 12 rows in step, within 5% of 8; refilling a
     * finished walk's place with the next row, 8 to 32 at a time, 10-20% slower.)
     */
    void leaves(double[] block, int[] starts, int count, int[] into) {
        long[] nodes = this.nodes;
        long sum = 0;
        for (int j = 1; j < nodes.length; j += 8) sum += nodes[j];  // 8 longs: a cache line
        for (int j = 0; j < value.length; j += 8) sum += (long) value[j];
        if (sum == 42) warmedSink++;
        int i = 0;
        for (; i + 8 <= count; i += 8) {
            int b0 = starts[i] + 1, b1 = starts[i + 1] + 1, b2 = starts[i + 2] + 1, b3 = starts[i + 3] + 1;
            int b4 = starts[i + 4] + 1, b5 = starts[i + 5] + 1, b6 = starts[i + 6] + 1, b7 = starts[i + 7] + 1;
            int p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
            while (true) {
                long s0 = nodes[2 * p0 + 1], s1 = nodes[2 * p1 + 1], s2 = nodes[2 * p2 + 1], s3 = nodes[2 * p3 + 1];
                long s4 = nodes[2 * p4 + 1], s5 = nodes[2 * p5 + 1], s6 = nodes[2 * p6 + 1], s7 = nodes[2 * p7 + 1];
                if ((s0 & s1 & s2 & s3 & s4 & s5 & s6 & s7) < 0) break;  // every walk at a leaf (feature -1: the pair negative)
                p0 = step(nodes, p0, s0, block, b0);
                p1 = step(nodes, p1, s1, block, b1);
                p2 = step(nodes, p2, s2, block, b2);
                p3 = step(nodes, p3, s3, block, b3);
                p4 = step(nodes, p4, s4, block, b4);
                p5 = step(nodes, p5, s5, block, b5);
                p6 = step(nodes, p6, s6, block, b6);
                p7 = step(nodes, p7, s7, block, b7);
            }
            into[i] = p0;
            into[i + 1] = p1;
            into[i + 2] = p2;
            into[i + 3] = p3;
            into[i + 4] = p4;
            into[i + 5] = p5;
            into[i + 6] = p6;
            into[i + 7] = p7;
        }
        for (; i < count; i++) into[i] = walk(nodes, block, starts[i] + 1);  // the rows left over: one walk each
    }

    /** The leaf of one row at {@code rows[base ...]} (a {@link #PAD} before it), walked alone with {@link #step}. */
    private static int walk(long[] nodes, double[] rows, int base) {
        int p = 0;
        long split;
        while ((split = nodes[2 * p + 1]) >= 0) p = step(nodes, p, split, rows, base);
        return p;
    }

    /** One step of {@link #leaves}'s walk from node p ({@code split}: its pair's second long); a leaf goes to itself. */
    private static int step(long[] nodes, int p, long split, double[] block, int base) {
        double v = block[base + (int) (split >> 32)];
        // v - threshold > 0 (its bits a positive long: never -0.0 here) exactly when v > threshold: right
        long over = Double.doubleToRawLongBits(v - Double.longBitsToDouble(nodes[2 * p]));
        int right = (int) (-over >> 63);  // all ones to go right, else 0
        return p + 1 + ((int) split & right);
    }

    /** The child of split p ({@code split}: its feature and right child's distance) that the row goes to. */
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
        return goLeft ? p + 1 : p + 1 + (int) split;
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
        return feature(p) < 0 ? -1 : p + 1 + (int) nodes[2 * p + 1];
    }

    /** Null, or node p's set. */
    double[] set(int p) {
        return sets == null ? null : sets[p];
    }

    boolean hasSets() {
        return sets != null;
    }

    /** True when {@link #leaves} can walk this tree (no set split, no NaN threshold, no leaf threshold +inf). */
    boolean blockWalks() {
        return blockWalk;
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

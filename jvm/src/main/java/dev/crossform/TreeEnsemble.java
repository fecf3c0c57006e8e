package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A tree ensemble model (stripe-json {@code simple-bonsai-*}): its trees from the bonsai file
 * and the rules of model.json, scored by docs/SEMANTICS.md from either tree layout
 * ({@link DecisionTree}: expanded to an array of nodes in preorder or the bonsai encoding itself).
 */
final class TreeEnsemble implements Model {
    final List<String> features;
    final DecisionTree[] trees;
    /** The trees when all are expanded ({@link Tree}), else null. */
    private final Tree[] expanded;
    /** How one row's leaves are found, with their preorder positions ({@code walk}) or only their value handles ({@code bareWalk}). */
    private final RowWalk.Walk walk;
    private final RowWalk.Walk bareWalk;
    /** True when one row's walk is shared with helper threads ({@link RowWalk}). */
    private final boolean shared;
    final String aggregation;
    final String postTransform;
    final List<JsonNode> classes;
    final double[] baseValue;
    final String missing;
    final String infinite;
    final double[] divisors;
    final double[] isolation;
    /** Under aggregation weighted-median: one weight per tree, else empty. */
    final double[] treeWeights;
    /** True under accumulate "float32" (XGBoost's predictor). */
    final boolean float32;
    final int width;
    final int nOutputs;

    TreeEnsemble(List<String> features, DecisionTree[] trees, int width, String aggregation, String postTransform, List<JsonNode> classes,
            double[] baseValue, String missing, String infinite, double[] divisors, double[] isolation, double[] treeWeights, boolean float32) {
        this(features, trees, width, aggregation, postTransform, classes, baseValue, missing, infinite, divisors, isolation, treeWeights, float32, true);
    }

    /** With {@code shareable} false, no row or batch is ever shared with {@link RowWalk}'s helper threads. */
    private TreeEnsemble(List<String> features, DecisionTree[] trees, int width, String aggregation, String postTransform, List<JsonNode> classes,
            double[] baseValue, String missing, String infinite, double[] divisors, double[] isolation, double[] treeWeights, boolean float32,
            boolean shareable) {
        this.features = features;
        this.trees = trees;
        this.width = width;
        this.aggregation = aggregation;
        this.postTransform = postTransform;
        this.classes = classes;
        this.baseValue = baseValue;
        this.missing = missing;
        this.infinite = infinite;
        this.divisors = divisors;
        this.isolation = isolation;
        this.treeWeights = treeWeights;
        this.float32 = float32;
        Tree[] expanded = allExpanded(trees);
        this.expanded = expanded;
        if (expanded != null && blockWalks(expanded)) {  // all trees walked together, 8 in step; a position is also a handle
            this.walk = (from, to, x, into) -> Tree.reachInStep(expanded, from, to, x, into);
            this.bareWalk = walk;
        } else if (expanded != null) {  // all trees walked together, a level at a time
            this.walk = (from, to, x, into) -> Tree.reach(expanded, from, to, x, into);
            this.bareWalk = walk;
        } else {
            this.walk = (from, to, x, into) -> {
                for (int t = from; t < to; t++) into[t] = trees[t].reach(x);
            };
            this.bareWalk = (from, to, x, into) -> {  // COMPACT skips the preorder positions no one asked for
                for (int t = from; t < to; t++) into[t] = trees[t].leafHandle(x) & 0xffffffffL;
            };
        }
        this.shared = shareable && RowWalk.worthSharing(trees);
        boolean twoFromOne = classes != null && classes.size() == 2 && width == 1 && postTransform.equals("logistic");
        this.nOutputs = isolation != null ? 2 : twoFromOne ? 2 : width;
    }

    /** The same model over the same trees, every row and batch scored on the calling thread. */
    @Override
    public TreeEnsemble onCallingThread() {
        return new TreeEnsemble(features, trees, width, aggregation, postTransform, classes, baseValue, missing, infinite, divisors, isolation,
                treeWeights, float32, false);
    }

    @Override
    public List<String> features() {
        return features;
    }

    @Override
    public int outputs() {
        return nOutputs;
    }

    @Override
    public int treeCount() {
        return trees.length;
    }

    /** Null, or the row error the model's missing and infinite rules give for input x. */
    @Override
    public String refusal(double[] x) {
        for (int j = 0; j < x.length; j++) {
            double v = x[j];
            if (Double.isNaN(v)) {
                if (missing.equals("error")) return Encoder.refused(features.get(j), "missing value, which this model refuses");
            } else if (infinite.equals("error")) {
                if (Double.isInfinite(v)) return Encoder.notFinite(features.get(j), v);
                if (Math.abs(v) >= Floats.FLOAT32_OVERFLOW) {
                    return Encoder.refused(features.get(j), "value " + Text.number(v) + " is too large for float32, which trees compare");
                }
            }
        }
        return null;
    }

    /** Scores input x into {@code out} (nOutputs values) and each tree's leaf, as a preorder position, into {@code leaves}. */
    @Override
    public void score(double[] x, double[] out, int[] leaves) {
        if (float32) {
            scoreFloat32(x, out, leaves);
            return;
        }
        double[] sum = new double[width];
        if (aggregation.equals("sum") && baseValue != null) {
            System.arraycopy(baseValue, 0, sum, 0, width);
        }
        if (aggregation.equals("weighted-median")) {
            sum[0] = weightedMedian(x, leaves);
        } else {
            long[] reached = new long[trees.length];
            if (shared) {
                RowWalk.reach(leaves == null ? bareWalk : walk, trees.length, x, reached);
            } else {
                (leaves == null ? bareWalk : walk).walk(0, trees.length, x, reached);
            }
            for (int t = 0; t < trees.length; t++) {
                int leaf = DecisionTree.handle(reached[t]);
                if (leaves != null) leaves[t] = DecisionTree.preorder(reached[t]);
                for (int k = 0; k < width; k++) sum[k] += trees[t].value(leaf, k);
            }
        }
        if (aggregation.equals("average")) {
            for (int k = 0; k < width; k++) sum[k] /= trees.length;
        }
        for (double d : divisors) {
            for (int k = 0; k < width; k++) sum[k] /= d;
        }
        PostTransform.apply(postTransform, sum, nOutputs, out, isolation);
    }

    /** True when every tree's rules are the one comparison of {@link Tree#blockWalks}. */
    private static boolean blockWalks(Tree[] trees) {
        for (Tree tree : trees) {
            if (!tree.blockWalks()) return false;
        }
        return true;
    }

    private static Tree[] allExpanded(DecisionTree[] trees) {
        Tree[] out = new Tree[trees.length];
        for (int t = 0; t < trees.length; t++) {
            if (!(trees[t] instanceof Tree)) return null;
            out[t] = (Tree) trees[t];
        }
        return out;
    }

    /** Tree t's leaf for input x as a {@link DecisionTree#value} handle; its preorder position into {@code leaves[t]} unless leaves is null. */
    private int leaf(int t, double[] x, int[] leaves) {
        if (leaves == null) return trees[t].leafHandle(x);
        long reached = trees[t].reach(x);
        leaves[t] = DecisionTree.preorder(reached);
        return DecisionTree.handle(reached);
    }

    /**
     * Tree by tree over the rows (a tree's nodes stay in cache), each row's sum still a left fold
     * in tree order, so every value is the one {@link #score} gives. A batch of one row is scored
     * as {@link #score} scores it (expanded trees walked together). A large forest's batch is
     * scored in blocks of rows shared with the helper threads ({@link RowWalk#scoreRows}): each
     * block is one thread's, tree by tree over its rows, so a row's bits do not depend on who
     * scored it.
     */
    @Override
    public void scoreBatch(double[][] x, boolean[] ok, double[] out, int[] leaves, String[] errors) {
        if (float32 || aggregation.equals("weighted-median") || x.length == 1) {  // one row: its trees walked together
            Model.super.scoreBatch(x, ok, out, leaves, errors);
            return;
        }
        RowWalk.Rows rows = (from, to) -> scoreRows(x, ok, out, leaves, from, to);
        if (shared) {
            RowWalk.scoreRows(rows, x.length);
        } else {
            rows.score(0, x.length);
        }
    }

    /** {@link #scoreBatch} of rows {@code from .. to}, written to their parts of {@code out} and {@code leaves} only. */
    private void scoreRows(double[][] x, boolean[] ok, double[] out, int[] leaves, int from, int to) {
        if (expanded != null) {
            for (int start = from; start < to; start += BLOCK) scoreBlock(x, ok, out, leaves, start, Math.min(to, start + BLOCK));
            return;
        }
        int rows = to - from;
        int n = trees.length;
        double[] sum = new double[rows * width];
        startSums(sum, from, to);
        for (int t = 0; t < n; t++) {
            DecisionTree tree = trees[t];
            for (int r = from; r < to; r++) {
                if (!ok[r]) continue;
                int leaf;
                if (leaves == null) {  // COMPACT skips the preorder position no one asked for
                    leaf = tree.leafHandle(x[r]);
                } else {
                    long reached = tree.reach(x[r]);
                    leaves[r * n + t] = DecisionTree.preorder(reached);
                    leaf = DecisionTree.handle(reached);
                }
                int at = (r - from) * width;
                for (int k = 0; k < width; k++) sum[at + k] += tree.value(leaf, k);
            }
        }
        finishRows(sum, ok, out, from, to);
    }

    /**
     * Rows a block of {@link #scoreBlock} holds at most: its copy of the rows (2,048 x 21 doubles
     * on the bench forest, 344 kB) stays in a core's cache beside a tree's nodes and leaf values
     * (260 kB), while each tree, read into cache once a block, serves as many rows as that allows
     * (bench forest, one thread: 512 rows 109k rows/s, 1,024 119k, 2,048 130k, 4,096 134k).
     */
    static final int BLOCK = 2048;

    /**
     * {@link #scoreRows} of at most {@link #BLOCK} rows of expanded trees: the rows without NaN are
     * copied side by side into one array and walked by {@link Tree#leaves}, several at a time;
     * a row with a NaN, and every row in a tree with set splits, is walked by {@link Tree#leaf},
     * whose rules for them are more than one comparison. Tree by tree over the block, each row's
     * sum a left fold in tree order: the bits {@link #score} gives.
     */
    private void scoreBlock(double[][] x, boolean[] ok, double[] out, int[] leaves, int from, int to) {
        int n = trees.length;
        int nFeatures = features.size();
        int stride = nFeatures + 1;  // a pad before each row's inputs: what a walk at a leaf reads
        double[] block = new double[(to - from) * stride];
        int[] starts = new int[to - from];
        int[] walked = new int[to - from];  // the rows walked by Tree.leaves, then the rows with a NaN from the end
        int fast = 0;
        int slow = to - from;
        for (int r = from; r < to; r++) {
            if (!ok[r]) continue;
            double[] row = x[r];
            boolean finite = true;
            for (int j = 0; j < nFeatures; j++) finite &= Double.isFinite(row[j]);
            if (!finite) {
                walked[--slow] = r;
                continue;
            }
            int at = fast * stride;
            starts[fast] = at;
            block[at] = Tree.PAD;
            for (int j = 0; j < nFeatures; j++) block[at + 1 + j] = row[j] + 0.0;  // -0.0 as 0.0: they compare alike
            walked[fast++] = r;
        }
        double[] sum = new double[(to - from) * width];
        startSums(sum, from, to);
        int[] found = new int[fast];
        for (int t = 0; t < n; t++) {
            Tree tree = expanded[t];
            if (tree.blockWalks()) {
                tree.leaves(block, starts, fast, found);
            } else {
                for (int i = 0; i < fast; i++) found[i] = tree.leaf(x[walked[i]]);
            }
            for (int i = 0; i < fast; i++) add(tree, t, walked[i], found[i], sum, leaves, from);
            for (int i = slow; i < to - from; i++) add(tree, t, walked[i], tree.leaf(x[walked[i]]), sum, leaves, from);
        }
        finishRows(sum, ok, out, from, to);
    }

    /** Tree t's leaf p for row r: its position into {@code leaves} (unless null), its values onto the row's sum. */
    private void add(Tree tree, int t, int r, int p, double[] sum, int[] leaves, int from) {
        if (leaves != null) leaves[r * trees.length + t] = p;
        int at = (r - from) * width;
        for (int k = 0; k < width; k++) sum[at + k] += tree.value(p, k);
    }

    /** The sums of rows {@code from .. to} before the first tree: the base value under aggregation "sum", else zeros. */
    private void startSums(double[] sum, int from, int to) {
        if (aggregation.equals("sum") && baseValue != null) {
            for (int r = from; r < to; r++) System.arraycopy(baseValue, 0, sum, (r - from) * width, width);
        }
    }

    /** Each scored row's sum (after its last tree) to its outputs, as {@link #score} ends. */
    private void finishRows(double[] sum, boolean[] ok, double[] out, int from, int to) {
        int n = trees.length;
        double[] raw = new double[width];
        double[] rowOut = new double[nOutputs];
        for (int r = from; r < to; r++) {
            if (!ok[r]) continue;
            System.arraycopy(sum, (r - from) * width, raw, 0, width);
            if (aggregation.equals("average")) {
                for (int k = 0; k < width; k++) raw[k] /= n;
            }
            for (double d : divisors) {
                for (int k = 0; k < width; k++) raw[k] /= d;
            }
            PostTransform.apply(postTransform, raw, nOutputs, rowOut, isolation);
            System.arraycopy(rowOut, 0, out, r * nOutputs, nOutputs);
        }
    }

    /** The sum in float32, rounded after each tree, from the float32 base value; then float32 transforms. */
    private void scoreFloat32(double[] x, double[] out, int[] leaves) {
        float[] sum = new float[width];
        if (baseValue != null) {
            for (int k = 0; k < width; k++) sum[k] = (float) baseValue[k];
        }
        for (int t = 0; t < trees.length; t++) {
            int leaf = leaf(t, x, leaves);
            for (int k = 0; k < width; k++) sum[k] += (float) trees[t].value(leaf, k);
        }
        if (aggregation.equals("average")) {
            for (int k = 0; k < width; k++) sum[k] /= trees.length;
        }
        PostTransform.applyFloat32(postTransform, sum, nOutputs, out);
    }

    /**
     * The tree values sorted ascending (equal values in tree order), their weights added in that
     * order from 0.0; the first value whose running sum is >= half the last one.
     */
    private double weightedMedian(double[] x, int[] leaves) {
        int n = trees.length;
        double[] values = new double[n];
        Integer[] order = new Integer[n];
        for (int t = 0; t < n; t++) {
            values[t] = trees[t].value(leaf(t, x, leaves), 0);
            order[t] = t;
        }
        java.util.Arrays.sort(order, (a, b) -> values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : Integer.compare(a, b));
        double[] running = new double[n];
        double total = 0.0;
        for (int i = 0; i < n; i++) {
            total += treeWeights[order[i]];
            running[i] = total;
        }
        double half = 0.5 * total;
        for (int i = 0; i < n; i++) {
            if (running[i] >= half) return values[order[i]];
        }
        return values[order[n - 1]];
    }

    @Override
    public void canonical(Canonical w) {
        w.text("tree-ensemble");
        w.texts(features);
        w.text(aggregation);
        w.text(postTransform);
        if (baseValue == null) {
            w.u8(0);
        } else {
            w.u8(1);
            w.f64s(baseValue);
        }
        classes(w, classes);
        w.u32(trees.length);
        w.u32(width);
        boolean hasSets = false;
        for (DecisionTree layout : trees) {
            Tree tree = layout.expanded();  // a compact tree expands one tree at a time, only here
            int n = tree.nodes();  // nodes in preorder: position p is the node the id names p
            w.u32(n);
            w.u32(n);
            for (int p = 0; p < n; p++) w.i32(tree.feature(p));
            w.u32(n);
            for (int p = 0; p < n; p++) w.f64(tree.threshold(p));
            w.u32(n);
            for (int p = 0; p < n; p++) w.i32(tree.left(p));
            w.u32(n);
            for (int p = 0; p < n; p++) w.i32(tree.right(p));
            w.u32(n);
            for (int p = 0; p < n; p++) w.u8(tree.missingLeft(p) ? 1 : 0);
            w.u32((long) n * width);
            for (int p = 0; p < n; p++) {
                for (int k = 0; k < width; k++) w.f64(tree.value(p, k));
            }
            hasSets |= tree.hasSets();
        }
        if (hasSets) {
            w.u8(3);
            for (DecisionTree layout : trees) {
                Tree tree = layout.expanded();
                int n = tree.nodes();
                int count = 0;
                for (int p = 0; p < n; p++) if (tree.set(p) != null) count++;
                w.u32(count);
                for (int p = 0; p < n; p++) {
                    double[] set = tree.set(p);
                    if (set != null) {
                        w.u32(p);
                        w.f64s(set);
                    }
                }
            }
        }
        if (isolation != null) {
            w.u8(4);
            w.f64(isolation[0]);
            w.f64(isolation[1]);
        }
        if (!missing.equals("route") || !infinite.equals("error")) {
            w.u8(2);
            w.text(missing);
            w.text(infinite);
        }
        if (float32) {
            w.u8(6);
            w.text("float32");
        }
        if (divisors.length > 0) {
            w.u8(20);
            w.u32(divisors.length);
            for (double d : divisors) w.f64(d);
        }
        if (treeWeights.length > 0) {
            w.u8(21);
            w.u32(treeWeights.length);
            for (double t : treeWeights) w.f64(t);
        }
    }

    /** Class labels keep their JSON type: a string, an integer, a float or a boolean. */
    static void classes(Canonical w, List<JsonNode> classes) {
        if (classes == null) {
            w.u8(0);
            return;
        }
        w.u8(1);
        w.u32(classes.size());
        for (JsonNode label : classes) {
            if (label.isBoolean()) {
                w.u8(3);
                w.u8(label.booleanValue() ? 1 : 0);
            } else if (label.isTextual()) {
                w.u8(0);
                w.text(label.textValue());
            } else if (label.isIntegralNumber()) {
                w.u8(1);
                w.i64(label.longValue());
            } else {
                w.u8(2);
                w.f64(label.doubleValue());
            }
        }
    }
}

package dev.crossform;

/**
 * One tree scored straight from the bonsai encoding (the COMPACT layout; docs/formats/bonsai.md):
 * the structure bitset with the file's rank directory, the feature, threshold and leaf columns
 * in their file encoding ({@link Column}), the missing-direction bitset and the set splits. No
 * object and no array per node: a walk finds a split's children by a rank over the bitset (the
 * k-th split of a tree has children 2k+1 and 2k+2) and its labels by that same rank, since split
 * labels are stored in split order and leaf labels in leaf order.
 *
 * <p>The preorder position of the leaf reached, the name a leaf has in every format, comes from
 * the level order without subtree sizes: the nodes before a leaf in preorder are its ancestors
 * and, on every level, the nodes left of its path there (on the levels below the leaf, the
 * descendants of the nodes left of it, found by one rank per level). Per tree only the first
 * position of each level is kept. A row costs one rank per node on its path plus one per level
 * below its leaf; a rank is the directory's count per 512 bits, a 16-bit count per word within
 * its block (built at load: 2 bytes per 64 nodes) and one popcount.
 */
final class CompactTree implements DecisionTree {
    /** The file's columns, shared by the trees of one file. */
    static final class Columns {
        final long[] structure;
        /** 1 bits of {@code structure} before each block of 8 words (512 bits), as the file stores it. */
        final int[] ranks;
        /** 1 bits of {@code structure} before each word within its block (at most 448): a rank is two lookups and one popcount. */
        final char[] wordRanks;
        final Column feature;
        final Column threshold;
        final long[] missingLeft;
        /** Null when the file has no set split. */
        final Sets sets;
        final Column leaves;
        final int width;

        Columns(long[] structure, int[] ranks, Column feature, Column threshold, long[] missingLeft, Sets sets, Column leaves, int width) {
            this.structure = structure;
            this.ranks = ranks;
            this.wordRanks = wordRanks(structure);
            this.feature = feature;
            this.threshold = threshold;
            this.missingLeft = missingLeft;
            this.sets = sets;
            this.leaves = leaves;
            this.width = width;
        }
    }

    /** The set splits: which splits test a set (a bitset over the splits, with its own rank directory), each set's values. */
    static final class Sets {
        final long[] marked;
        final int[] ranks;
        final char[] wordRanks;
        /** Set q holds {@code values[from[q] .. from[q + 1])}, strictly rising. */
        final int[] from;
        final double[] values;

        Sets(long[] marked, int[] from, double[] values) {
            this.marked = marked;
            this.ranks = directory(marked);
            this.wordRanks = wordRanks(marked);
            this.from = from;
            this.values = values;
        }

        /** Split s's set, or null when it is a threshold split. */
        double[] set(int s) {
            if (!Bonsai.bit(marked, s)) return null;
            int q = rank(marked, ranks, wordRanks, s);
            return java.util.Arrays.copyOfRange(values, from[q], from[q + 1]);
        }
    }

    private final Columns c;
    /** The root's position in the file's node order. */
    private final int first;
    private final int size;
    /** Splits before this tree: the global index of its first split. */
    private final int splitsBefore;
    private final int splits;
    /** Per level, the tree position of its first node. */
    private final int[] levelStart;

    CompactTree(Columns c, int first, int size) {
        this.c = c;
        this.first = first;
        this.size = size;
        this.splitsBefore = rank(c.structure, c.ranks, c.wordRanks, first);
        this.splits = (size - 1) / 2;
        int levels = 0;
        int[] starts = new int[8];
        for (int at = 0; at < size; at = 2 * rankInTree(at) + 1) {
            if (levels == starts.length) starts = java.util.Arrays.copyOf(starts, 2 * levels);
            starts[levels++] = at;
        }
        this.levelStart = java.util.Arrays.copyOf(starts, levels);
    }

    @Override
    public int nodes() {
        return size;
    }

    /** The 1 bits before bit i (i below the bitset's length): the block's count, the word's count within it, a popcount. */
    static int rank(long[] words, int[] directory, char[] wordRanks, int i) {
        int w = i >>> 6;
        return directory[i >>> 9] + wordRanks[w] + Long.bitCount(words[w] & ((1L << (i & 63)) - 1));
    }

    /** Per word, the 1 bits before it within its block of 8 words. */
    static char[] wordRanks(long[] words) {
        char[] out = new char[words.length];
        int counted = 0;
        for (int w = 0; w < words.length; w++) {
            if ((w & 7) == 0) counted = 0;
            out[w] = (char) counted;
            counted += Long.bitCount(words[w]);
        }
        return out;
    }

    /** A rank directory of the bitset's layout: 1 bits before each block of 8 words. */
    static int[] directory(long[] words) {
        int[] out = new int[(words.length + 7) / 8];
        int counted = 0;
        for (int b = 0; b < out.length; b++) {
            out[b] = counted;
            for (int w = b * 8; w < Math.min(words.length, b * 8 + 8); w++) counted += Long.bitCount(words[w]);
        }
        return out;
    }

    /** Splits of this tree before tree position p (0 to size). */
    private int rankInTree(int p) {
        return p >= size ? splits : rank(c.structure, c.ranks, c.wordRanks, first + p) - splitsBefore;
    }

    @Override
    public long reach(double[] x) {
        return walk(x, true);
    }

    /** The leaf without its preorder position: the ranks below the leaf (about 40% of a walk) are left out. */
    @Override
    public int leafHandle(double[] x) {
        return DecisionTree.handle(walk(x, false));
    }

    /** {@link #reach}'s answer, its preorder position 0 unless {@code position}. */
    private long walk(double[] x, boolean position) {
        final long[] words = c.structure;
        final int[] directory = c.ranks;
        final char[] wordRanks = c.wordRanks;
        int p = 0;
        int depth = 0;
        int left = 0;  // nodes left of the path on the levels passed
        while (true) {
            int g = first + p;
            int w = g >>> 6;
            long word = words[w];
            int r = directory[g >>> 9] + wordRanks[w] + Long.bitCount(word & ((1L << (g & 63)) - 1));
            if (position) left += p - levelStart[depth];
            if ((word & (1L << (g & 63))) == 0) {
                if (!position) return g - r;
                // a leaf, r splits before it: the descendants of the nodes left of it, level by level
                int below = 2 * (r - splitsBefore) + 1;
                for (int l = depth + 1; l < levelStart.length; l++) {
                    left += below - levelStart[l];
                    if (l + 1 < levelStart.length) below = 2 * rankInTree(below) + 1;
                }
                return ((long) (depth + left) << 32) | (g - r);
            }
            double v = x[c.feature.integer(r)];
            boolean missingLeft = Bonsai.bit(c.missingLeft, r);
            boolean goLeft;
            Sets sets = c.sets;
            if (sets != null && Bonsai.bit(sets.marked, r)) {
                // in the set: away from the missing side; NaN and every other value: the missing side
                int q = rank(sets.marked, sets.ranks, sets.wordRanks, r);
                goLeft = Tree.contains(sets.values, sets.from[q], sets.from[q + 1], v) != missingLeft;
            } else if (Double.isNaN(v)) {
                goLeft = missingLeft;
            } else {
                goLeft = c.threshold.atMost(r, v);
            }
            int k = r - splitsBefore;
            p = goLeft ? 2 * k + 1 : 2 * k + 2;
            depth++;
        }
    }

    /** The handle is the leaf's index in the file's leaf order. */
    @Override
    public double value(int leaf, int k) {
        return c.leaves.value(leaf, k);
    }

    @Override
    public Tree expanded() {
        int width = c.width;
        int[] feature = new int[size];
        double[] threshold = new double[size];
        boolean[] missingLeft = new boolean[size];
        int[] left = new int[size];
        int[] right = new int[size];
        double[][] sets = null;
        double[] value = new double[size * width];
        int split = splitsBefore;
        int leaf = first - splitsBefore;
        int rank = 0;
        for (int p = 0; p < size; p++) {
            if (Bonsai.bit(c.structure, first + p)) {
                feature[p] = c.feature.integer(split);
                threshold[p] = c.threshold.value(split);
                missingLeft[p] = Bonsai.bit(c.missingLeft, split);
                double[] set = c.sets == null ? null : c.sets.set(split);
                if (set != null) {
                    if (sets == null) sets = new double[size][];
                    sets[p] = set;
                }
                left[p] = 2 * rank + 1;
                right[p] = 2 * rank + 2;
                rank++;
                split++;
            } else {
                feature[p] = -1;
                left[p] = -1;
                right[p] = -1;
                for (int k = 0; k < width; k++) value[p * width + k] = c.leaves.value(leaf, k);
                leaf++;
            }
        }
        return new Tree(feature, threshold, missingLeft, left, right, sets, value, width);
    }
}

package dev.crossform;

/**
 * One tree of an ensemble as {@link TreeEnsemble} scores it, in either layout: expanded to
 * its nodes in preorder ({@link Tree}) or kept in the bonsai encoding ({@link CompactTree}). Both give
 * the same leaf, the same preorder position and the same values for every row.
 */
interface DecisionTree {
    /**
     * The leaf a row whose model inputs are {@code x} reaches (docs/SEMANTICS.md): its preorder
     * position in the high 32 bits, in the low 32 a handle for {@link #value}.
     */
    long reach(double[] x);

    /** The {@link #value} handle of the leaf {@link #reach} finds, for a caller that does not ask its preorder position. */
    default int leafHandle(double[] x) {
        return handle(reach(x));
    }

    /** Output k of the leaf a {@link #reach} handle names. */
    double value(int handle, int k);

    /** How many nodes the tree has. */
    int nodes();

    /** The tree expanded (itself when it is so already): what the package id hashes. */
    Tree expanded();

    static int preorder(long reached) {
        return (int) (reached >>> 32);
    }

    static int handle(long reached) {
        return (int) reached;
    }
}

package dev.crossform;

import java.util.List;

/** A package's model over its numeric features: refuses a row by its rules, or scores it. */
interface Model {
    List<String> features();

    /** How many values a score holds. */
    int outputs();

    /** How many trees report a leaf (0 for a model without trees). */
    int treeCount();

    /** Null, or the row error this model's rules give for input x. */
    String refusal(double[] x);

    /** Scores x into {@code out}; each tree's leaf, as a preorder position, into {@code leaves} (may be null). */
    void score(double[] x, double[] out, int[] leaves);

    /**
     * Scores every row r with {@code ok[r]} into {@code out[r * outputs() ...]} and its leaves into
     * {@code leaves[r * treeCount() ...]} (unless leaves is null): the same values as {@link #score},
     * row by row; a model may order its work otherwise (trees over all rows) where that changes no
     * result.
     */
    default void scoreBatch(double[][] x, boolean[] ok, double[] out, int[] leaves, String[] errors) {
        int k = outputs();
        int t = treeCount();
        double[] rowOut = new double[k];
        int[] rowLeaves = leaves == null ? null : new int[t];
        for (int r = 0; r < x.length; r++) {
            if (!ok[r]) continue;
            String error = scoreOrRefuse(x[r], rowOut, rowLeaves);
            if (error != null) {
                errors[r] = error;
                continue;
            }
            System.arraycopy(rowOut, 0, out, r * k, k);
            if (leaves != null) System.arraycopy(rowLeaves, 0, leaves, r * t, t);
        }
    }

    /**
     * Null and the row scored, or the row error: {@link #refusal}, or one only the scores tell (a
     * stack's final model refusing a member's infinite output).
     */
    default String scoreOrRefuse(double[] x, double[] out, int[] leaves) {
        String error = refusal(x);
        if (error == null) score(x, out, leaves);
        return error;
    }

    /**
     * The same model scoring every row and batch on the calling thread alone, never with
     * {@link RowWalk}'s helper threads (itself when it never uses them); the same results.
     */
    default Model onCallingThread() {
        return this;
    }

    /** The model's canonical bytes (docs/IDENTITY.md). */
    void canonical(Canonical w);
}

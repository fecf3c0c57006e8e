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

    /** The model's canonical bytes (docs/IDENTITY.md). */
    void canonical(Canonical w);
}

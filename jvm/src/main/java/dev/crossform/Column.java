package dev.crossform;

/**
 * One bonsai column kept in its file encoding (docs/formats/bonsai.md): raw values, a
 * dictionary of keys with 1-, 2- or 4-byte indexes, or float32 thresholds rewritten to their
 * float64 threshold when read. Element {@code i} holds {@code width} values. Nothing is
 * expanded: a dictionary column of a million leaves and 300 distinct vectors costs a byte per
 * leaf plus the keys.
 */
final class Column {
    final int n;
    final int width;
    /** Raw i32 values, or the dictionary's keys (integer columns). */
    private final int[] ints;
    /** Raw f64 values, or the dictionary's keys (width per element or key). */
    private final double[] doubles;
    /** The float32-rewrite encoding's values; the threshold is their rewrite. */
    private final float[] floats;
    /** The dictionary's indexes, in the narrowest array their width fits; all null when raw. */
    private final byte[] index8;
    private final char[] index16;
    private final int[] index32;
    private final boolean dictionary;

    private Column(int n, int width, int[] ints, double[] doubles, float[] floats, Object indexes) {
        this.n = n;
        this.width = width;
        this.ints = ints;
        this.doubles = doubles;
        this.floats = floats;
        this.index8 = indexes instanceof byte[] ? (byte[]) indexes : null;
        this.index16 = indexes instanceof char[] ? (char[]) indexes : null;
        this.index32 = indexes instanceof int[] ? (int[]) indexes : null;
        this.dictionary = indexes != null;
    }

    static Column rawIntegers(int[] values) {
        return new Column(values.length, 1, values, null, null, null);
    }

    static Column rawDoubles(int n, int width, double[] values) {
        return new Column(n, width, null, values, null, null);
    }

    static Column float32Rewrite(float[] values) {
        return new Column(values.length, 1, null, null, values, null);
    }

    /** A dictionary: {@code keys} is int[] or double[] (width values per key), {@code indexes} byte[], char[] or int[]. */
    static Column dictionary(int n, int width, Object keys, Object indexes) {
        return new Column(n, width, keys instanceof int[] ? (int[]) keys : null, keys instanceof double[] ? (double[]) keys : null, null, indexes);
    }

    private int index(int i) {
        if (index8 != null) return index8[i] & 0xff;
        if (index16 != null) return index16[i];
        return index32[i];
    }

    /** Element i of an integer column. */
    int integer(int i) {
        return ints[dictionary ? index(i) : i];
    }

    /** Value k of element i of a float column. */
    double value(int i, int k) {
        if (floats != null) return Floats.float32Threshold(floats[i]);
        return doubles[(dictionary ? index(i) : i) * width + k];
    }

    /**
     * {@code v <= value(i)} for a threshold column and any v but NaN. The float32-rewrite encoding
     * answers without computing its threshold t': for a finite f below the largest float32, the
     * doubles x with {@code x <= t'} are exactly those whose float32 {@code (float) x} is at most f
     * ({@link Floats#float32Threshold}: t' is where rounding to float32 passes from f to the next
     * float32; a value beyond float32 rounds to the infinity on its own side of t'), so one float
     * comparison decides. For -inf and the largest f (whose t' are -inf and the largest double)
     * t' itself is compared. A COMPACT walk spent a third of its time computing t' (bench forest,
     * one thread: 62 us a row, 44 us this way).
     */
    boolean atMost(int i, double v) {
        if (floats != null) {
            float f = floats[i];
            if (f > Float.NEGATIVE_INFINITY && f < Float.MAX_VALUE) return (float) v <= f;  // NaN f fails both: compared below
            return v <= Floats.float32Threshold(f);
        }
        return v <= doubles[dictionary ? index(i) : i];
    }

    /** Value 0 of element i of a float column (a threshold). */
    double value(int i) {
        if (floats != null) return Floats.float32Threshold(floats[i]);
        return doubles[dictionary ? index(i) : i];
    }
}

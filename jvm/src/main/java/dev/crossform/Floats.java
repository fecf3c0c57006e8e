package dev.crossform;

/** The float32 facts the rules rely on (docs/SEMANTICS.md note 1). */
public final class Floats {
    /** |x| at or beyond this is infinite as a float32: 2^128 - 2^103. */
    public static final double FLOAT32_OVERFLOW = 0x1.ffffffp127;

    private Floats() {}

    /**
     * The float64 threshold t' for which {@code x <= t'} equals {@code float32(x) <= f} for every
     * x: the midpoint between f and the next float32 when f's last mantissa bit is 0, else the
     * double just below it; the largest double when f is the largest float32.
     */
    public static double float32Threshold(float f) {
        if (f >= Float.MAX_VALUE) {
            return Double.MAX_VALUE;
        }
        float g = Math.nextUp(f);
        double mid = ((double) f + (double) g) / 2.0;
        boolean odd = (Float.floatToRawIntBits(f) & 1) != 0;
        return odd ? Math.nextDown(mid) : mid;
    }
}

package dev.crossform;

/** The float32 facts the rules rely on (docs/SEMANTICS.md note 1). */
final class Floats {
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

    // expf as glibc (2.28 and later) and musl compute it (ARM's optimized-routines e_expf.c), the
    // rule of docs/SEMANTICS.md note 13: 2^(j/32) for j = 0..31, the polynomial, the ends.
    private static final double[] EXPF_TABLE = {
        0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0,
        0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0,
        0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
        0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0, 0x1.6247eb03a5585p+0,
        0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
        0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
        0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0,
        0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0, 0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0,
    };
    private static final double EXPF_INV_LN2_N = 0x1.71547652b82fep+5;
    private static final double EXPF_SHIFT = 0x1.8p52;
    private static final double EXPF_C0 = 0x1.c6af84b912394p-20;
    private static final double EXPF_C1 = 0x1.ebfce50fac4f3p-13;
    private static final double EXPF_C2 = 0x1.62e42ff0c52d6p-6;
    private static final float EXPF_OVERFLOW = (float) 0x1.62e42ep6;
    private static final float EXPF_UNDERFLOW = (float) -0x1.9fe368p6;

    /** The C library's expf of a float32, bit for bit (plain double operations, no fused multiply-add). */
    public static float expf(float x) {
        if (x > EXPF_OVERFLOW) return Float.POSITIVE_INFINITY;
        if (x < EXPF_UNDERFLOW) return 0.0f;
        double xd = Math.min(Math.max((double) x, -160.0), 100.0);
        double z = EXPF_INV_LN2_N * xd;
        double kd = (z + EXPF_SHIFT) - EXPF_SHIFT;
        double r = z - kd;
        long k = (long) kd;
        int j = (int) Math.floorMod(k, 32L);
        double s = EXPF_TABLE[j] * Math.scalb(1.0, (int) ((k - j) / 32));
        double y = ((EXPF_C0 * r + EXPF_C1) * (r * r) + (EXPF_C2 * r + 1.0)) * s;
        return (float) y;
    }
}

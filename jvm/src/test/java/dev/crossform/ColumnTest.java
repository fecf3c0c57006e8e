package dev.crossform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Column#atMost} answers {@code v <= value(i)} as the threshold itself does: for the
 * float32-rewrite encoding, whose shortcut compares {@code (float) v} instead of computing the
 * threshold, on every float32 kind (zeros, subnormals, the largest, the infinities, NaN, even and
 * odd last bits) against values at, beside and between its threshold and beyond float32; and for
 * raw and dictionary threshold columns.
 */
class ColumnTest {
    private static final float[] SPECIAL_FLOATS = {0.0f, -0.0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1.0f, -1.0f, 0.5f,
        Math.nextUp(0.5f), 3.0f, -2.5f, Math.nextDown(Float.MAX_VALUE), Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN, 16777217.0f, 1e-40f};

    /** Values around threshold t and float32 value f: t and its neighbours, f, the float32 boundaries, the ends of float32 and beyond. */
    private static List<Double> probes(float f, double t, Random random) {
        List<Double> out = new ArrayList<>();
        for (double d : new double[] {t, Math.nextUp(t), Math.nextDown(t), f, Math.nextUp((double) f), Math.nextDown((double) f), 0.0, -0.0,
            Double.MIN_VALUE, -Double.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 0x1.ffffffp127, -0x1.ffffffp127,
            Math.nextDown(0x1.ffffffp127), Math.nextUp(-0x1.ffffffp127), 1e300, -1e300, Double.MAX_VALUE, -Double.MAX_VALUE,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            out.add(d);
        }
        for (int k = 0; k < 8; k++) out.add(f + random.nextGaussian() * Math.ulp(f) * 4);
        return out;
    }

    @Test
    void aFloat32RewriteAnswersAsItsThresholdForEveryValue() {
        Random random = new Random(7);
        List<Float> floats = new ArrayList<>();
        for (float f : SPECIAL_FLOATS) floats.add(f);
        for (int k = 0; k < 2000; k++) floats.add(Float.intBitsToFloat(random.nextInt()));  // every exponent, both signs, NaNs among them
        float[] values = new float[floats.size()];
        for (int i = 0; i < values.length; i++) values[i] = floats.get(i);
        Column column = Column.float32Rewrite(values);
        int compared = 0;
        int shortcut = 0;
        for (int i = 0; i < values.length; i++) {
            double t = column.value(i);
            assertEquals(Double.doubleToRawLongBits(Floats.float32Threshold(values[i])), Double.doubleToRawLongBits(t));
            for (double v : probes(values[i], t, random)) {
                if (Double.isNaN(v)) continue;  // a walk routes NaN before any comparison
                assertEquals(v <= t, column.atMost(i, v), "float32 " + values[i] + " (threshold " + t + "), value " + v);
                compared++;
                if (values[i] > Float.NEGATIVE_INFINITY && values[i] < Float.MAX_VALUE) shortcut++;
            }
        }
        assertTrue(shortcut > compared / 2 && shortcut < compared, "expected both ways of answering; the float32 one " + shortcut + " of " + compared);
    }

    @Test
    void rawAndDictionaryThresholdsAnswerAsTheirValues() {
        double[] raw = {0.0, -0.0, 1.5, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -3.25, Double.MIN_VALUE};
        Column plain = Column.rawDoubles(raw.length, 1, raw);
        Column dictionary = Column.dictionary(4, 1, new double[] {-0.0, 2.0, Double.POSITIVE_INFINITY}, new byte[] {2, 0, 1, 1});
        for (double v : new double[] {-0.0, 0.0, 1.5, Math.nextUp(1.5), 2.0, -3.25, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e300}) {
            for (int i = 0; i < raw.length; i++) assertEquals(v <= raw[i], plain.atMost(i, v), "raw " + raw[i] + ", value " + v);
            for (int i = 0; i < 4; i++) assertEquals(v <= dictionary.value(i), dictionary.atMost(i, v), "dictionary element " + i + ", value " + v);
        }
    }
}

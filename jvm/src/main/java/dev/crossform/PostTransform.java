package dev.crossform;

/** The post transforms of docs/SEMANTICS.md, in float64. */
final class PostTransform {
    private PostTransform() {}

    /**
     * Transforms the raw scores into {@code out}. {@code outputs} is 2 where one raw score gives two
     * classes under logistic ({@code [1 - p, p]}); {@code isolation} is (denominator, offset).
     */
    static void apply(String transform, double[] raw, int outputs, double[] out, double[] isolation) {
        int width = raw.length;
        switch (transform) {
            case "none":
                System.arraycopy(raw, 0, out, 0, width);
                break;
            case "exp":
                for (int k = 0; k < width; k++) out[k] = Math.exp(raw[k]);
                break;
            case "logistic":
                if (outputs == 2 && width == 1) {
                    double p = 1.0 / (1.0 + Math.exp(-raw[0]));
                    out[0] = 1.0 - p;
                    out[1] = p;
                } else {
                    for (int k = 0; k < width; k++) out[k] = 1.0 / (1.0 + Math.exp(-raw[k]));
                }
                break;
            case "softmax": {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < width; k++) max = Math.max(max, raw[k]);
                double total = 0.0;
                for (int k = 0; k < width; k++) {
                    out[k] = Math.exp(raw[k] - max);
                    total += out[k];
                }
                for (int k = 0; k < width; k++) out[k] /= total;
                break;
            }
            case "isolation": {
                double score = -Math.pow(2.0, -(raw[0] / isolation[0]));
                out[0] = score;
                out[1] = score - isolation[1];
                break;
            }
            default:
                throw new IllegalStateException("post transform " + transform + " passed the reader");
        }
    }

    /**
     * XGBoost's transforms on float32 sums (accumulate "float32"), every operation rounded to
     * float32: exp is expf; logistic {@code 1 / (expf(min(-x, 88.7)) + 1)}, {@code [1 - p, p]}
     * for two classes from one score; softmax {@code expf(x - max)} over a float64 left-fold sum
     * cast to float32.
     */
    static void applyFloat32(String transform, float[] raw, int outputs, double[] out) {
        int width = raw.length;
        switch (transform) {
            case "none":
                for (int k = 0; k < width; k++) out[k] = raw[k];
                break;
            case "exp":
                for (int k = 0; k < width; k++) out[k] = Floats.expf(raw[k]);
                break;
            case "logistic":
                if (outputs == 2 && width == 1) {
                    float p = 1.0f / (Floats.expf(Math.min(-raw[0], 88.7f)) + 1.0f);
                    out[0] = 1.0f - p;
                    out[1] = p;
                } else {
                    for (int k = 0; k < width; k++) out[k] = 1.0f / (Floats.expf(Math.min(-raw[k], 88.7f)) + 1.0f);
                }
                break;
            case "softmax": {
                float max = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < width; k++) max = Math.max(max, raw[k]);
                float[] e = new float[width];
                double total = 0.0;
                for (int k = 0; k < width; k++) {
                    e[k] = Floats.expf(raw[k] - max);
                    total += e[k];
                }
                float t = (float) total;
                for (int k = 0; k < width; k++) out[k] = e[k] / t;
                break;
            }
            default:
                throw new IllegalStateException("post transform " + transform + " under float32 accumulation passed the reader");
        }
    }
}

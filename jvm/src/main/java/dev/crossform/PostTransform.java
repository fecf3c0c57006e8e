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
}

package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A linear model (stripe-json {@code linear-regression} / {@code linear-classification}): raw
 * score k is {@code sum_j coefficient[k][j] * x[j] + intercept[k]} in float64 (a left fold),
 * then the post transform; a missing or infinite input is a row error.
 */
final class LinearModel implements Model {
    final List<String> features;
    final double[][] coefficients;
    final double[] intercepts;
    final String postTransform;
    final List<JsonNode> classes;
    final int nOutputs;

    LinearModel(List<String> features, double[][] coefficients, double[] intercepts, String postTransform, List<JsonNode> classes) {
        this.features = features;
        this.coefficients = coefficients;
        this.intercepts = intercepts;
        this.postTransform = postTransform;
        this.classes = classes;
        boolean twoFromOne = classes != null && classes.size() == 2 && coefficients.length == 1 && postTransform.equals("logistic");
        this.nOutputs = twoFromOne ? 2 : coefficients.length;
    }

    static LinearModel read(JsonNode doc, String where) throws PackageException {
        List<String> features = Json.texts(doc, "features", where);
        List<JsonNode> rows = Json.array(doc, "coefficients", where);
        double[][] coefficients = new double[rows.size()][];
        for (int k = 0; k < coefficients.length; k++) {
            JsonNode row = rows.get(k);
            if (!row.isArray() || row.size() != features.size()) {
                throw new PackageException.Malformed(where, "expected " + features.size() + " coefficients in row " + k + ", one per feature, found " + Json.kind(row));
            }
            coefficients[k] = new double[row.size()];
            for (int j = 0; j < row.size(); j++) coefficients[k][j] = Json.finite(row.get(j), "coefficients[" + k + "][" + j + "]", where);
        }
        double[] intercepts = Json.numbers(doc, "intercepts", where);
        if (coefficients.length == 0 || intercepts.length != coefficients.length) {
            throw new PackageException.Malformed(where, "expected one intercept per row of coefficients (" + coefficients.length + "), found " + intercepts.length);
        }
        String post = Json.text(doc, "postTransform", where);
        if (!post.equals("none") && !post.equals("logistic") && !post.equals("softmax")) {
            throw new PackageException.Malformed(where, "expected postTransform 'none', 'logistic' or 'softmax', found " + Text.shown(post));
        }
        List<JsonNode> classes = doc.has("classes") ? Json.array(doc, "classes", where) : null;
        if (classes != null && classes.size() != coefficients.length && !(classes.size() == 2 && coefficients.length == 1)) {
            throw new PackageException.Malformed(where, "expected one class per score, or two for one score; found " + classes.size() + " classes and " + coefficients.length + " scores");
        }
        return new LinearModel(List.copyOf(features), coefficients, intercepts, post, classes);
    }

    @Override
    public List<String> features() {
        return features;
    }

    @Override
    public int outputs() {
        return nOutputs;
    }

    @Override
    public int treeCount() {
        return 0;
    }

    @Override
    public String refusal(double[] x) {
        for (int j = 0; j < x.length; j++) {
            if (Double.isNaN(x[j])) return Encoder.refused(features.get(j), "missing value, which a linear model cannot score");
            if (Double.isInfinite(x[j])) return Encoder.notFinite(features.get(j), x[j]);
        }
        return null;
    }

    @Override
    public void score(double[] x, double[] out, int[] leaves) {
        int k = coefficients.length;
        double[] raw = new double[k];
        for (int o = 0; o < k; o++) {
            double s = 0.0;
            double[] row = coefficients[o];
            for (int j = 0; j < row.length; j++) s += row[j] * x[j];
            raw[o] = s + intercepts[o];
        }
        PostTransform.apply(postTransform, raw, nOutputs, out, null);
    }

    @Override
    public void canonical(Canonical w) {
        w.text("linear");
        w.texts(features);
        w.text(postTransform);
        TreeEnsemble.classes(w, classes);
        w.u32(coefficients.length);
        w.u32((long) coefficients.length * features.size());
        for (double[] row : coefficients) for (double c : row) w.f64(c);
        w.f64s(intercepts);
    }
}

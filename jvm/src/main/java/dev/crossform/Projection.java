package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.List;

/**
 * projection (scikit-learn's PCA transform, docs/SEMANTICS.md note 25): output k is a float64
 * left fold over the features in order, the first term first; under centring {@code AFTER}
 * the fold of {@code x_j * c_kj} minus the fold of {@code m_j * c_kj}, under {@code BEFORE} the
 * fold of {@code (x_j - m_j) * c_kj}; then divided by {@code divisors[k]} when there are
 * divisors (whiten). NaN and +-inf in any feature are row errors.
 */
final class Projection extends Encoder {
    static final int MAX_INPUTS = 100_000;

    enum Centring {
        AFTER("after"),
        BEFORE("before");

        final String written;

        Centring(String written) {
            this.written = written;
        }
    }

    final Centring centring;
    final double[] mean;
    final double[][] components;
    /** Null without whiten. */
    final double[] divisors;
    /** Per output, the fold of {@code m_j * c_kj} that centring AFTER subtracts. */
    private final double[] offsets;

    /** From plain values (a reader of any format); {@code divisors} may be null. */
    Projection(List<String> features, List<String> outputs, double[] mean, double[][] components, double[] divisors,
            Centring centring, String where) throws PackageException {
        super("projection", features, outputs);
        int n = features.size();
        if (n == 0 || n > MAX_INPUTS) throw new PackageException.Malformed(where, "expected 1 to " + MAX_INPUTS + " features, found " + n);
        if (new HashSet<>(features).size() != n) throw new PackageException.Malformed(where, "expected distinct features, found " + features);
        HashSet<String> names = new HashSet<>(outputs);
        if (names.size() != outputs.size()) throw new PackageException.Malformed(where, "expected distinct outputs, found " + Text.shown(outputs));
        for (String f : features) {
            if (names.contains(f)) throw new PackageException.Malformed(where, "expected outputs that overwrite no feature, found " + Text.shown(f));
        }
        if (mean.length != n) throw new PackageException.Malformed(where, "expected one mean per feature (" + n + "), found " + mean.length);
        if (components.length == 0 || components.length != outputs.size()) {
            throw new PackageException.Malformed(where, "expected one components row per output (" + outputs.size() + ", at least 1), found " + components.length);
        }
        for (double[] row : components) {
            if (row.length != n) throw new PackageException.Malformed(where, "expected components rows of one number per feature (" + n + "), found " + row.length);
            finite(row, "components", where);
        }
        finite(mean, "mean", where);
        if (divisors != null) {
            if (divisors.length != outputs.size()) {
                throw new PackageException.Malformed(where, "expected one divisor per output (" + outputs.size() + "), found " + divisors.length);
            }
            for (double d : divisors) {
                if (!(d > 0) || !Double.isFinite(d)) throw new PackageException.Malformed(where, "expected divisors to be positive finite numbers, found " + Text.number(d));
            }
        }
        this.centring = centring;
        this.mean = mean;
        this.components = components;
        this.divisors = divisors;
        this.offsets = new double[components.length];
        for (int k = 0; k < components.length; k++) {
            double acc = mean[0] * components[k][0];
            for (int j = 1; j < n; j++) acc += mean[j] * components[k][j];
            offsets[k] = acc;
        }
    }

    private static void finite(double[] values, String key, String where) throws PackageException {
        for (double v : values) {
            if (!Double.isFinite(v)) throw new PackageException.Malformed(where, "expected " + key + " to be finite numbers, found " + Text.number(v));
        }
    }

    static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
        String written = Json.text(doc, "centring", where);
        Centring centring = null;
        for (Centring c : Centring.values()) if (c.written.equals(written)) centring = c;
        if (centring == null) throw new PackageException.Malformed(where, "expected centring 'after' or 'before', found " + Text.shown(written));
        List<JsonNode> rows = Json.array(doc, "components", where);
        double[][] components = new double[rows.size()][];
        for (int k = 0; k < components.length; k++) {
            JsonNode row = rows.get(k);
            if (!row.isArray()) throw new PackageException.Malformed(where, "expected components rows to be arrays, found " + Json.kind(row));
            components[k] = new double[row.size()];
            for (int j = 0; j < row.size(); j++) components[k][j] = Json.finite(row.get(j), "components[" + k + "][" + j + "]", where);
        }
        double[] divisors = doc.has("divisors") ? Json.numbers(doc, "divisors", where) : null;
        return new Projection(f, o, Json.numbers(doc, "mean", where), components, divisors, centring, where);
    }

    @Override
    String apply(double[] num, String[] str) {
        double[] xs = numbersIn(num);
        for (int j = 0; j < xs.length; j++) {
            if (Double.isNaN(xs[j])) return refused(features.get(j), "missing value, which a projection refuses");
            if (Double.isInfinite(xs[j])) return notFinite(features.get(j), xs[j]);
        }
        boolean before = centring == Centring.BEFORE;
        for (int k = 0; k < components.length; k++) {
            double[] c = components[k];
            double acc = (before ? xs[0] - mean[0] : xs[0]) * c[0];
            for (int j = 1; j < xs.length; j++) acc += (before ? xs[j] - mean[j] : xs[j]) * c[j];
            if (!before) acc -= offsets[k];
            if (divisors != null) acc /= divisors[k];
            num[out[k]] = acc;
        }
        return null;
    }

    @Override
    void canonical(Canonical w) {
        w.text(centring.written);
        w.f64s(mean);
        w.u32(components.length);
        for (double[] row : components) w.f64s(row);
        if (divisors == null) {
            w.u8(0);
        } else {
            w.u8(1);
            w.f64s(divisors);
        }
    }
}

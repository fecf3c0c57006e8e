package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The encoders over numbers that stripe-json 2.2 added: number-category, binning, product,
 * integer-code and missing-band (docs/SEMANTICS.md). Their readers are entries of
 * {@link Encoders#READERS}.
 */
final class NumberEncoders {
    private NumberEncoders() {}

    private static double[] sortedFinite(JsonNode node, String key, String where) throws PackageException {
        if (!node.isArray()) throw new PackageException.Malformed(where, "expected " + key + " to be an array, found " + Json.kind(node));
        double[] out = new double[node.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Json.finite(node.get(i), key, where);
            if (i > 0 && out[i] < out[i - 1]) {
                throw new PackageException.Malformed(where, "expected " + key + " in rising order, found " + out[i - 1] + " then " + out[i]);
            }
        }
        return out;
    }

    /** -0.0 written as 0.0, as the canonical bytes have it. */
    private static void zeroSigned(Canonical w, double[] values) {
        w.u32(values.length);
        for (double v : values) w.f64(v == 0.0 ? 0.0 : v);
    }

    /** number-category: a number names the category it equals; NaN is missing; +-inf a row error. */
    static final class NumberCategory extends Encoder {
        final double[][] values;
        final String[][] categories;
        final String unknown;

        NumberCategory(List<String> f, List<String> o, double[][] values, String[][] categories, String unknown) {
            super("number-category", f, o);
            this.values = values;
            this.categories = categories;
            this.unknown = unknown;
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            Encoders.sameLength(f, o, where);
            List<JsonNode> valueNodes = Json.perFeature(doc, "values", f, where);
            List<JsonNode> categoryNodes = Json.perFeature(doc, "categories", f, where);
            double[][] values = new double[f.size()][];
            String[][] categories = new String[f.size()][];
            for (int j = 0; j < values.length; j++) {
                values[j] = sortedFinite(valueNodes.get(j), "values", where);
                JsonNode c = categoryNodes.get(j);
                if (!c.isArray() || c.size() != values[j].length) {
                    throw new PackageException.Malformed(where, "expected one category per value (" + values[j].length + ") for " + Text.shown(f.get(j)) + ", found " + Json.kind(c));
                }
                categories[j] = new String[c.size()];
                for (int i = 0; i < c.size(); i++) {
                    if (!c.get(i).isTextual()) throw new PackageException.Malformed(where, "expected categories to be strings, found " + Json.kind(c.get(i)));
                    categories[j][i] = c.get(i).textValue();
                }
            }
            return new NumberCategory(f, o, values, categories, Json.text(doc, "unknown", where));
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            double[] xs = numbersIn(num);
            String error = null;
            for (int j = 0; j < n; j++) {
                double x = xs[j];
                if (Double.isInfinite(x) && error == null) error = notFinite(features.get(j), x);
                String category = null;
                if (!Double.isNaN(x)) {
                    category = unknown;
                    for (int i = 0; i < values[j].length; i++) {
                        if (values[j][i] == x) {
                            category = categories[j][i];
                            break;
                        }
                    }
                }
                str[out[j]] = category;
            }
            return error;
        }

        @Override
        void canonical(Canonical w) {
            for (int j = 0; j < values.length; j++) {
                zeroSigned(w, values[j]);
                w.texts(List.of(categories[j]));
            }
            w.text(unknown);
        }

        @Override
        boolean categoricalOutput(int k) {
            return true;
        }
    }

    /** binning: the count of a feature's edges at most x; NaN and +-inf are row errors. */
    static final class Binning extends Encoder {
        final double[][] edges;

        Binning(List<String> f, List<String> o, double[][] edges) {
            super("binning", f, o);
            this.edges = edges;
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            Encoders.sameLength(f, o, where);
            List<JsonNode> nodes = Json.perFeature(doc, "edges", f, where);
            double[][] edges = new double[f.size()][];
            for (int j = 0; j < edges.length; j++) edges[j] = sortedFinite(nodes.get(j), "edges", where);
            return new Binning(f, o, edges);
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            double[] xs = numbersIn(num);
            String error = null;
            for (int j = 0; j < n; j++) {
                double x = xs[j];
                if (Double.isNaN(x) && error == null) error = refused(features.get(j), "missing value, which binning refuses");
                if (Double.isInfinite(x) && error == null) error = notFinite(features.get(j), x);
                int count = 0;
                while (count < edges[j].length && edges[j][count] <= x) count++;
                num[out[j]] = count;
            }
            return error;
        }

        @Override
        void canonical(Canonical w) {
            for (double[] e : edges) zeroSigned(w, e);
        }
    }

    /** product: output k is the left-fold product of its factors; NaN and +-inf in any feature are row errors. */
    static final class Product extends Encoder {
        final int[][] factors;

        Product(List<String> f, List<String> o, int[][] factors) {
            super("product", f, o);
            this.factors = factors;
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            List<JsonNode> terms = Json.array(doc, "factors", where);
            if (terms.size() != o.size()) {
                throw new PackageException.Malformed(where, "expected one factor list per output (" + o.size() + "), found " + terms.size());
            }
            int[][] factors = new int[terms.size()][];
            for (int k = 0; k < factors.length; k++) {
                JsonNode term = terms.get(k);
                if (!term.isArray()) throw new PackageException.Malformed(where, "expected factors to hold lists, found " + Json.kind(term));
                if (term.size() > 64) throw new PackageException.Malformed(where, "expected at most 64 factors per output, found " + term.size());
                factors[k] = new int[term.size()];
                for (int i = 0; i < term.size(); i++) {
                    int at = term.get(i).isTextual() ? f.indexOf(term.get(i).textValue()) : -1;
                    if (at < 0) throw new PackageException.Malformed(where, "expected factors to name features, found " + Json.kind(term.get(i)));
                    factors[k][i] = at;
                }
            }
            for (String output : o) {
                if (f.contains(output)) throw new PackageException.Malformed(where, "expected outputs that overwrite no feature, found " + Text.shown(output));
            }
            return new Product(f, o, factors);
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            double[] xs = new double[n];
            String error = null;
            for (int j = 0; j < n; j++) {
                xs[j] = num[in[j]];
                if (Double.isNaN(xs[j]) && error == null) error = refused(features.get(j), "missing value, which a product refuses");
                if (Double.isInfinite(xs[j]) && error == null) error = notFinite(features.get(j), xs[j]);
            }
            for (int k = 0; k < factors.length; k++) {
                double p = 1.0;
                if (factors[k].length > 0) {
                    p = xs[factors[k][0]];
                    for (int i = 1; i < factors[k].length; i++) p *= xs[factors[k][i]];
                }
                num[out[k]] = p;
            }
            return error;
        }

        @Override
        void canonical(Canonical w) {
            w.u32(factors.length);
            for (int[] term : factors) {
                w.u32(term.length);
                for (int i : term) w.u32(i);
            }
        }
    }

    /** integer-code: trunc(x) where -1 < x < 2^31, else NaN; refuses nothing. */
    static final class IntegerCode extends Encoder {
        IntegerCode(List<String> f, List<String> o) {
            super("integer-code", f, o);
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            Encoders.sameLength(f, o, where);
            return new IntegerCode(f, o);
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            double[] xs = numbersIn(num);
            for (int j = 0; j < n; j++) {
                double x = xs[j];
                num[out[j]] = x > -1.0 && x < 2147483648.0 ? (x < 0 ? Math.ceil(x) : Math.floor(x)) : Double.NaN;
            }
            return null;
        }

        @Override
        void canonical(Canonical w) {}
    }

    /** missing-band: a number in [low, high] becomes NaN; refuses nothing. */
    static final class MissingBand extends Encoder {
        final double[] low;
        final double[] high;

        MissingBand(List<String> f, List<String> o, double[] low, double[] high) {
            super("missing-band", f, o);
            this.low = low;
            this.high = high;
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            Encoders.sameLength(f, o, where);
            List<JsonNode> lows = Json.perFeature(doc, "low", f, where);
            List<JsonNode> highs = Json.perFeature(doc, "high", f, where);
            double[] low = new double[f.size()];
            double[] high = new double[f.size()];
            for (int j = 0; j < low.length; j++) {
                low[j] = Json.finite(lows.get(j), "low", where);
                high[j] = Json.finite(highs.get(j), "high", where);
                if (!(low[j] <= high[j])) throw new PackageException.Malformed(where, "expected low <= high, found " + low[j] + " and " + high[j]);
            }
            return new MissingBand(f, o, low, high);
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            double[] xs = numbersIn(num);
            for (int j = 0; j < n; j++) num[out[j]] = low[j] <= xs[j] && xs[j] <= high[j] ? Double.NaN : xs[j];
            return null;
        }

        @Override
        void canonical(Canonical w) {
            w.f64s(low);
            w.f64s(high);
        }
    }
}

package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The encoder kinds this scorer reads, each reading its stripe-json file (docs/formats/stripe-json.md)
 * and applying the rules of docs/SEMANTICS.md; {@link #READERS} is the table of them. A kind
 * not in it is refused as {@link PackageException.UnsupportedKind}.
 */
final class Encoders {
    private Encoders() {}

    interface Reader {
        Encoder read(JsonNode doc, List<String> features, List<String> outputs, String where) throws PackageException;
    }

    static final Map<String, Reader> READERS = Map.ofEntries(
            Map.entry("number-category", NumberEncoders.NumberCategory::read),
            Map.entry("binning", NumberEncoders.Binning::read),
            Map.entry("product", NumberEncoders.Product::read),
            Map.entry("integer-code", NumberEncoders.IntegerCode::read),
            Map.entry("missing-band", NumberEncoders.MissingBand::read),
            Map.entry("fill-missing", FillMissing::read),
            Map.entry("label-encoder", LabelEncoder::read),
            Map.entry("standard-scaler", (doc, f, o, w) -> new Scale("standard-scaler", f, o, Json.numbers(doc, "mean", w), Json.numbers(doc, "scale", w), w)),
            Map.entry("affine", (doc, f, o, w) -> new Scale("affine", f, o, Json.numbers(doc, "scale", w), Json.numbers(doc, "offset", w), w)),
            Map.entry("missing-indicator", (doc, f, o, w) -> new MissingIndicator("missing-indicator", f, o, types(doc, f, w))),
            Map.entry("refuse-missing", (doc, f, o, w) -> new MissingIndicator("refuse-missing", f, o, types(doc, f, w))),
            Map.entry("one-hot", OneHot::read),
            Map.entry("projection", Projection::read));

    /** The keys each encoder file's schema names (schemas/stripe-json-<kind>-*.schema.json). */
    static final Map<String, java.util.Set<String>> KEYS = Map.ofEntries(
            Map.entry("fill-missing", java.util.Set.of("features", "outputs", "values")),
            Map.entry("label-encoder", java.util.Set.of("features", "outputs", "encodings", "missing", "unknown")),
            Map.entry("standard-scaler", java.util.Set.of("features", "outputs", "mean", "scale")),
            Map.entry("affine", java.util.Set.of("features", "outputs", "scale", "offset")),
            Map.entry("missing-indicator", java.util.Set.of("features", "outputs", "types")),
            Map.entry("refuse-missing", java.util.Set.of("features", "outputs", "types")),
            Map.entry("one-hot", java.util.Set.of("features", "outputs", "widths", "columns", "missing", "unknown")),
            Map.entry("number-category", java.util.Set.of("features", "outputs", "values", "categories", "unknown")),
            Map.entry("binning", java.util.Set.of("features", "outputs", "edges")),
            Map.entry("product", java.util.Set.of("features", "outputs", "factors")),
            Map.entry("integer-code", java.util.Set.of("features", "outputs")),
            Map.entry("missing-band", java.util.Set.of("features", "outputs", "low", "high")),
            Map.entry("projection", java.util.Set.of("features", "outputs", "centring", "mean", "components", "divisors")));

    static boolean[] types(JsonNode doc, List<String> features, String where) throws PackageException {
        List<String> types = Json.texts(doc, "types", where);
        if (types.size() != features.size()) {
            throw new PackageException.Malformed(where, "expected one type per feature (" + features.size() + "), found " + types.size());
        }
        boolean[] categorical = new boolean[types.size()];
        for (int j = 0; j < categorical.length; j++) {
            String t = types.get(j);
            if (!t.equals("numeric") && !t.equals("categorical")) {
                throw new PackageException.Malformed(where, "expected types 'numeric' or 'categorical', found " + Text.shown(t));
            }
            categorical[j] = t.equals("categorical");
        }
        return categorical;
    }

    static void sameLength(List<String> features, List<String> outputs, String where) throws PackageException {
        if (features.size() != outputs.size()) {
            throw new PackageException.Malformed(where, "expected one output per feature (" + features.size() + "), found " + outputs.size());
        }
    }

    /** fill-missing: a missing value becomes the fill value (a number or a category). */
    static final class FillMissing extends Encoder {
        final Object[] values;

        FillMissing(List<String> f, List<String> o, Object[] values) {
            super("fill-missing", f, o);
            this.values = values;
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            sameLength(f, o, where);
            List<JsonNode> items = Json.array(doc, "values", where);
            if (items.size() != f.size()) {
                throw new PackageException.Malformed(where, "expected one value per feature (" + f.size() + "), found " + items.size());
            }
            Object[] values = new Object[items.size()];
            for (int j = 0; j < values.length; j++) {
                JsonNode v = items.get(j);
                values[j] = v.isTextual() ? v.textValue() : (Object) Json.finite(v, "values[" + j + "]", where);
            }
            return new FillMissing(f, o, values);
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            if (n == 1) return one(0, num, str);
            double[] nums = numbersIn(num);
            String[] strs = textsIn(str);
            String error = null;
            for (int j = 0; j < n; j++) {
                if (values[j] instanceof String) {
                    str[out[j]] = strs[j] == null ? (String) values[j] : strs[j];
                } else {
                    double x = nums[j];
                    if (Double.isInfinite(x) && error == null) error = notFinite(features.get(j), x);
                    num[out[j]] = Double.isNaN(x) ? (Double) values[j] : x;
                }
            }
            return error;
        }

        private String one(int j, double[] num, String[] str) {
            if (values[j] instanceof String) {
                String s = str[in[j]];
                str[out[j]] = s == null ? (String) values[j] : s;
                return null;
            }
            double x = num[in[j]];
            num[out[j]] = Double.isNaN(x) ? (Double) values[j] : x;
            return Double.isInfinite(x) ? notFinite(features.get(j), x) : null;
        }

        @Override
        void canonical(Canonical w) {
            for (Object v : values) {
                if (v instanceof String) {
                    w.u8(1);
                    w.text((String) v);
                } else {
                    w.u8(0);
                    w.f64((Double) v);
                }
            }
        }

        @Override
        boolean categoricalInput(int j) {
            return values[j] instanceof String;
        }

        @Override
        boolean categoricalOutput(int k) {
            return values[k] instanceof String;
        }
    }

    /** label-encoder: a category becomes its code; missing and unknown by the encoder's codes or policy. */
    static final class LabelEncoder extends Encoder {
        final List<Map<String, Double>> codes = new ArrayList<>();
        final Double[] missing;
        final Double unknown;

        LabelEncoder(List<String> f, List<String> o, Double[] missing, Double unknown) {
            super("label-encoder", f, o);
            this.missing = missing;
            this.unknown = unknown;
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            sameLength(f, o, where);
            List<JsonNode> encodings = Json.perFeature(doc, "encodings", f, where);
            List<JsonNode> missingNodes = Json.perFeature(doc, "missing", f, where);
            Double[] missing = new Double[f.size()];
            for (int j = 0; j < missing.length; j++) {
                JsonNode m = missingNodes.get(j);
                missing[j] = m.isTextual() && m.textValue().equals("unknown") ? null : Json.number(m, "missing", where);
            }
            JsonNode u = Json.field(doc, "unknown", where);
            Double unknown = u.isTextual() && u.textValue().equals("error") ? null : Json.number(u, "unknown", where);
            LabelEncoder enc = new LabelEncoder(f, o, missing, unknown);
            for (JsonNode e : encodings) {
                Json.object(e, "encodings", where);
                Map<String, Double> map = new HashMap<>();
                for (Map.Entry<String, JsonNode> entry : Json.entries(e)) {
                    map.put(entry.getKey(), Json.number(entry.getValue(), "a code", where));
                }
                enc.codes.add(map);
            }
            return enc;
        }

        @Override
        String apply(double[] num, String[] str) {
            String error = null;
            int n = in.length;
            String[] values = textsIn(str);
            for (int j = 0; j < n; j++) {
                String s = values[j];
                Double code = s == null ? missing[j] : codes.get(j).get(s);
                if (code == null) {
                    code = unknown;
                    if (code == null) {
                        if (error == null) {
                            error = refused(features.get(j), s == null ? "missing value, and the encoder knows no missing category" : "unknown category " + Text.shown(s));
                        }
                        code = Double.NaN;
                    }
                }
                num[out[j]] = code;
            }
            return error;
        }

        @Override
        void canonical(Canonical w) {
            for (int j = 0; j < codes.size(); j++) {
                Map<String, Double> map = codes.get(j);
                List<String> categories = Canonical.sortedByCodePoint(map.keySet());
                w.texts(categories);
                w.u32(categories.size());
                for (String c : categories) w.f64(map.get(c));
                w.optionalF64(missing[j]);
            }
            w.optionalF64(unknown);
        }

        @Override
        boolean categoricalInput(int j) {
            return true;
        }
    }

    /** standard-scaler {@code (x - offset) / scale} and affine {@code x * scale + offset}; +-inf refused. */
    static final class Scale extends Encoder {
        final double[] first;
        final double[] second;
        final boolean standard;

        Scale(String type, List<String> f, List<String> o, double[] first, double[] second, String where) throws PackageException {
            super(type, f, o);
            sameLength(f, o, where);
            if (first.length != f.size() || second.length != f.size()) {
                throw new PackageException.Malformed(where, "expected one parameter per feature (" + f.size() + "), found " + first.length + " and " + second.length);
            }
            this.first = first;
            this.second = second;
            this.standard = type.equals("standard-scaler");
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            double[] xs = numbersIn(num);
            String error = null;
            for (int j = 0; j < n; j++) {
                double x = xs[j];
                if (Double.isInfinite(x) && error == null) error = notFinite(features.get(j), x);
                num[out[j]] = standard ? (x - first[j]) / second[j] : x * first[j] + second[j];
            }
            return error;
        }

        @Override
        void canonical(Canonical w) {
            w.f64s(first);
            w.f64s(second);
        }
    }

    /** missing-indicator (1.0 where missing) and refuse-missing (a missing value is a row error). */
    static final class MissingIndicator extends Encoder {
        final boolean[] categorical;
        final boolean refuse;

        MissingIndicator(String type, List<String> f, List<String> o, boolean[] categorical) {
            super(type, f, o);
            this.categorical = categorical;
            this.refuse = type.equals("refuse-missing");
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            double[] xs = numbersIn(num);
            String[] ss = textsIn(str);
            String error = null;
            for (int j = 0; j < n; j++) {
                boolean missing = categorical[j] ? ss[j] == null : Double.isNaN(xs[j]);
                if (!categorical[j] && Double.isInfinite(xs[j]) && error == null) error = notFinite(features.get(j), xs[j]);
                if (refuse) {
                    if (missing && error == null) error = refused(features.get(j), "missing value, which it had none of at fit");
                    if (categorical[j]) str[out[j]] = ss[j]; else num[out[j]] = xs[j];
                } else {
                    num[out[j]] = missing ? 1.0 : 0.0;
                }
            }
            return error;
        }

        @Override
        void canonical(Canonical w) {
            for (boolean c : categorical) w.u8(c ? 1 : 0);
        }

        @Override
        boolean categoricalInput(int j) {
            return categorical[j];
        }

        @Override
        boolean categoricalOutput(int k) {
            return refuse && categorical[k];
        }
    }

    /** one-hot: each feature writes a block of indicator columns. */
    static final class OneHot extends Encoder {
        static final int NONE = -1;
        static final int UNKNOWN = -2;
        static final int ERROR = -3;
        static final int ZEROS = -4;
        final List<Map<String, Integer>> columns = new ArrayList<>();
        final int[] widths;
        final int[] missing;
        final int[] unknown;
        final int[] start;

        OneHot(List<String> f, List<String> o, int[] widths, int[] missing, int[] unknown) {
            super("one-hot", f, o);
            this.widths = widths;
            this.missing = missing;
            this.unknown = unknown;
            this.start = new int[widths.length + 1];
            for (int j = 0; j < widths.length; j++) start[j + 1] = start[j] + widths[j];
        }

        static Encoder read(JsonNode doc, List<String> f, List<String> o, String where) throws PackageException {
            List<JsonNode> widthNodes = Json.perFeature(doc, "widths", f, where);
            List<JsonNode> columnNodes = Json.perFeature(doc, "columns", f, where);
            List<JsonNode> missingNodes = Json.perFeature(doc, "missing", f, where);
            List<JsonNode> unknownNodes = Json.perFeature(doc, "unknown", f, where);
            int n = f.size();
            int[] widths = new int[n];
            int[] missing = new int[n];
            int[] unknown = new int[n];
            long total = 0;
            for (int j = 0; j < n; j++) {
                widths[j] = Json.integer(widthNodes.get(j), "widths", where);
                if (widths[j] < 0 || widths[j] > 1_000_000) {
                    throw new PackageException.Malformed(where, "expected widths from 0 to 1000000, found " + widths[j]);
                }
                total += widths[j];
                JsonNode m = missingNodes.get(j);
                missing[j] = m.isTextual() && m.textValue().equals("unknown") ? UNKNOWN : column(m, widths[j], where);
                JsonNode u = unknownNodes.get(j);
                if (u.isTextual() && u.textValue().equals("error")) unknown[j] = ERROR;
                else if (u.isTextual() && u.textValue().equals("zeros")) unknown[j] = ZEROS;
                else unknown[j] = column(u, widths[j], where);
            }
            if (total != o.size()) {
                throw new PackageException.Malformed(where, "expected " + total + " outputs (the widths' sum), found " + o.size());
            }
            OneHot enc = new OneHot(f, o, widths, missing, unknown);
            for (int j = 0; j < n; j++) {
                Json.object(columnNodes.get(j), "columns", where);
                Map<String, Integer> map = new HashMap<>();
                for (Map.Entry<String, JsonNode> e : Json.entries(columnNodes.get(j))) {
                    map.put(e.getKey(), column(e.getValue(), widths[j], where));
                }
                enc.columns.add(map);
            }
            return enc;
        }

        private static int column(JsonNode node, int width, String where) throws PackageException {
            int c = Json.integer(node, "a column", where);
            if (c < -1 || c >= width) {
                throw new PackageException.Malformed(where, "expected a column index from -1 to " + (width - 1) + ", found " + c);
            }
            return c;
        }

        @Override
        String apply(double[] num, String[] str) {
            int n = in.length;
            String[] values = textsIn(str);
            String error = null;
            for (int j = 0; j < n; j++) {
                String s = values[j];
                Integer c = s == null ? (missing[j] == UNKNOWN ? null : missing[j]) : columns.get(j).get(s);
                if (c == null) {
                    if (unknown[j] == ERROR) {
                        if (error == null) {
                            error = refused(features.get(j), s == null ? "missing value, and the encoder knows no missing category" : "unknown category " + Text.shown(s));
                        }
                        c = NONE;
                    } else {
                        c = unknown[j] == ZEROS ? NONE : unknown[j];
                    }
                }
                for (int k = 0; k < widths[j]; k++) num[out[start[j] + k]] = k == c ? 1.0 : 0.0;
            }
            return error;
        }

        @Override
        void canonical(Canonical w) {
            for (int j = 0; j < widths.length; j++) {
                Map<String, Integer> map = columns.get(j);
                List<String> categories = Canonical.sortedByCodePoint(map.keySet());
                w.texts(categories);
                w.u32(categories.size());
                for (String c : categories) w.i32(map.get(c));
                w.u32(widths[j]);
                policy(w, missing[j]);
                policy(w, unknown[j]);
            }
        }

        private static void policy(Canonical w, int column) {
            if (column == UNKNOWN) {
                w.u8(0);
            } else if (column == ERROR) {
                w.u8(2);
            } else if (column == ZEROS) {
                w.u8(3);
            } else {
                w.u8(1);
                w.i32(column);
            }
        }

        @Override
        boolean categoricalInput(int j) {
            return true;
        }
    }
}

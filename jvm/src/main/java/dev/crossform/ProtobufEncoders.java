package dev.crossform;

import crossform.v1.PackageOuterClass;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The encoders of a protobuf package (docs/formats/protobuf.md, message Encoder): each member of
 * the oneof audited as crossform's Python reader audits it (counts per feature, enums, distinct
 * names and categories, finite numbers, one-hot columns inside their block) and built into the
 * encoder objects the stripe-json reader builds. {@link ProtobufReader} reads the rest of the file
 * and lends its checks of names, numbers and enums.
 */
final class ProtobufEncoders {
    private ProtobufEncoders() {}

    /** The widest one-hot block a file may declare, before anything is sized by it. */
    static final int MAX_BLOCK_WIDTH = 1_000_000;

    private static final Map<Integer, Projection.Centring> CENTRINGS = Map.of(0, Projection.Centring.AFTER, 1, Projection.Centring.BEFORE);
    private static final Map<Integer, String> CENTRING_NAMES = Map.of(0, "after", 1, "before");
    private static final Map<Integer, String> UNKNOWN_POLICIES = Map.of(1, "error", 2, "zeros");

    static Encoder read(PackageOuterClass.Encoder msg, String at) throws PackageException {
        switch (msg.getEncoderCase()) {
            case FILL_MISSING: {
                String path = at + ".fill_missing";
                PackageOuterClass.FillMissing m = msg.getFillMissing();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                perFeature(f.size(), m.getValuesCount(), "values", path);
                Object[] values = new Object[f.size()];
                for (int j = 0; j < values.length; j++) {
                    PackageOuterClass.Value v = m.getValues(j);
                    String where = path + ".values[" + j + "]";
                    switch (v.getValueCase()) {
                        case NUMBER -> values[j] = ProtobufReader.finite(v.getNumber(), "fill values", where);
                        case TEXT -> values[j] = v.getText();
                        default -> throw ProtobufReader.missingOneof(where, "value");
                    }
                }
                return new Encoders.FillMissing(f, outputs(f, m.getOutputsList(), path), values);
            }
            case CATEGORICAL_ENCODING: {
                String path = at + ".categorical_encoding";
                PackageOuterClass.CategoricalEncoding m = msg.getCategoricalEncoding();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                if (m.getEncodingsCount() != f.size()) {
                    throw new PackageException.ProtobufCount(path, "expected " + f.size() + " encodings, one per feature, found " + m.getEncodingsCount());
                }
                for (int i = 0; i < m.getEncodingsCount(); i++) {
                    PackageOuterClass.CategoryCodes e = m.getEncodings(i);
                    if (e.getCodesCount() != e.getCategoriesCount()) {
                        throw new PackageException.ProtobufCount(path + ".encodings[" + i + "]",
                                "expected " + e.getCategoriesCount() + " codes, one per category, found " + e.getCodesCount());
                    }
                }
                Double[] missing = new Double[f.size()];
                for (int j = 0; j < missing.length; j++) {
                    PackageOuterClass.CategoryCodes e = m.getEncodings(j);
                    missing[j] = e.hasMissingCode() ? notInfinite(e.getMissingCode(), "missing codes", path) : null;
                }
                Double unknown = m.hasUnknownCode() ? notInfinite(m.getUnknownCode(), "the unknown code", path) : null;
                Encoders.LabelEncoder enc = new Encoders.LabelEncoder(f, outputs(f, m.getOutputsList(), path), missing, unknown);
                for (int j = 0; j < f.size(); j++) {
                    PackageOuterClass.CategoryCodes e = m.getEncodings(j);
                    Map<String, Double> codes = new HashMap<>();
                    for (int c = 0; c < e.getCategoriesCount(); c++) {
                        String where = path + ".encodings[" + j + "]";
                        if (codes.put(e.getCategories(c), ProtobufReader.finite(e.getCodes(c), "codes", where)) != null) {
                            throw new PackageException.Malformed(where, "expected distinct categories, found " + Text.shown(e.getCategories(c)) + " twice");
                        }
                    }
                    enc.codes.add(codes);
                }
                return enc;
            }
            case SCALE: {
                String path = at + ".scale";
                PackageOuterClass.Scale m = msg.getScale();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                List<String> o = outputs(f, m.getOutputsList(), path);
                if (m.getOffsetCount() != f.size() || m.getScaleCount() != f.size()) {
                    throw new PackageException.Malformed(path, "expected one offset and one scale per feature (" + f.size() + "), found " + m.getOffsetCount() + " and " + m.getScaleCount());
                }
                double[] scale = ProtobufReader.finite(m.getScaleList(), "scale", path);
                for (double s : scale) if (s == 0.0) throw new PackageException.Malformed(path, "expected non-zero numbers as scale, found 0.0");
                return new Encoders.Scale("standard-scaler", f, o, ProtobufReader.finite(m.getOffsetList(), "offset", path), scale, path);
            }
            case AFFINE: {
                String path = at + ".affine";
                PackageOuterClass.Affine m = msg.getAffine();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                perFeature(f.size(), m.getScaleCount(), "scale", path);
                perFeature(f.size(), m.getOffsetCount(), "offset", path);
                return new Encoders.Scale("affine", f, outputs(f, m.getOutputsList(), path), ProtobufReader.finite(m.getScaleList(), "scale", path),
                        ProtobufReader.finite(m.getOffsetList(), "offset", path), path);
            }
            case MISSING_INDICATOR: {
                String path = at + ".missing_indicator";
                PackageOuterClass.MissingIndicator m = msg.getMissingIndicator();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                perFeature(f.size(), m.getKindsCount(), "kinds", path);
                boolean[] kinds = kinds(m.getKindsValueList(), path);
                List<String> o = ProtobufReader.names(m.getOutputsList(), "outputs", true, path);
                if (o.size() != f.size() || new HashSet<>(o).size() != o.size()) {
                    throw new PackageException.Malformed(path, "expected " + f.size() + " distinct outputs, one per feature, found " + o);
                }
                return new Encoders.MissingIndicator("missing-indicator", f, o, kinds);
            }
            case REFUSE_MISSING: {
                String path = at + ".refuse_missing";
                PackageOuterClass.RefuseMissing m = msg.getRefuseMissing();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                perFeature(f.size(), m.getKindsCount(), "kinds", path);
                boolean[] kinds = kinds(m.getKindsValueList(), path);
                return new Encoders.MissingIndicator("refuse-missing", f, outputs(f, m.getOutputsList(), path), kinds);
            }
            case ONE_HOT:
                return oneHot(msg.getOneHot(), at + ".one_hot");
            case NUMBER_CATEGORY: {
                String path = at + ".number_category";
                PackageOuterClass.NumberCategory m = msg.getNumberCategory();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                perFeature(f.size(), m.getPerFeatureCount(), "per_feature", path);
                double[][] values = new double[f.size()][];
                String[][] categories = new String[f.size()][];
                for (int j = 0; j < values.length; j++) {
                    PackageOuterClass.NumberCategoryFeature e = m.getPerFeature(j);
                    String where = path + ".per_feature[" + j + "]";
                    if (e.getCategoriesCount() != e.getValuesCount()) {
                        throw new PackageException.ProtobufCount(where, "expected " + e.getValuesCount() + " categories, one per value, found " + e.getCategoriesCount());
                    }
                    values[j] = ProtobufReader.finite(e.getValuesList(), "values", where);
                    Set<Double> seen = new HashSet<>();
                    for (double v : values[j]) {
                        if (!seen.add(v == 0.0 ? 0.0 : v)) throw new PackageException.Malformed(where, "expected distinct values, found " + Text.number(v) + " twice");
                    }
                    categories[j] = e.getCategoriesList().toArray(new String[0]);
                    for (String c : categories[j]) {
                        if (c.equals(m.getUnknown())) throw new PackageException.Malformed(where, "expected an unknown category that is no feature's category, found " + Text.shown(c));
                    }
                }
                // the IR keeps each feature's values sorted, their categories alongside (the canonical order)
                for (int j = 0; j < values.length; j++) sortTogether(values[j], categories[j]);
                return new NumberEncoders.NumberCategory(f, outputs(f, m.getOutputsList(), path), values, categories, m.getUnknown());
            }
            case BINNING: {
                String path = at + ".binning";
                PackageOuterClass.Binning m = msg.getBinning();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                perFeature(f.size(), m.getPerFeatureCount(), "per_feature", path);
                double[][] edges = new double[f.size()][];
                for (int j = 0; j < edges.length; j++) {
                    String where = path + ".per_feature[" + j + "]";
                    edges[j] = ProtobufReader.finite(m.getPerFeature(j).getEdgesList(), "edges", where);
                    for (int i = 1; i < edges[j].length; i++) {
                        if (edges[j][i] < edges[j][i - 1]) throw new PackageException.Malformed(where, "expected edges in rising order, found " + edges[j][i - 1] + " then " + edges[j][i]);
                    }
                }
                return new NumberEncoders.Binning(f, outputs(f, m.getOutputsList(), path), edges);
            }
            case PRODUCT: {
                String path = at + ".product";
                PackageOuterClass.Product m = msg.getProduct();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                if (new HashSet<>(f).size() != f.size()) throw new PackageException.Malformed(path, "expected distinct names as features, found " + f);
                List<String> o = ProtobufReader.names(m.getOutputsList(), "outputs", true, path);
                if (m.getProductsCount() != o.size()) {
                    throw new PackageException.ProtobufCount(path + ".products", "expected " + o.size() + " products, one per output, found " + m.getProductsCount());
                }
                if (new HashSet<>(o).size() != o.size()) throw new PackageException.Malformed(path, "expected distinct names as outputs, found " + o);
                int[][] factors = new int[o.size()][];
                for (int k = 0; k < factors.length; k++) {
                    PackageOuterClass.ProductFactors p = m.getProducts(k);
                    factors[k] = new int[p.getFactorsCount()];
                    for (int i = 0; i < factors[k].length; i++) {
                        long index = Integer.toUnsignedLong(p.getFactors(i));
                        if (index >= f.size()) {
                            throw new PackageException.Malformed(path + ".products[" + k + "]", "expected factors indexing the " + f.size() + " features, found " + index);
                        }
                        factors[k][i] = (int) index;
                    }
                }
                for (String output : o) {
                    if (f.contains(output)) throw new PackageException.Malformed(path, "expected outputs that overwrite no feature, found " + Text.shown(output));
                }
                return new NumberEncoders.Product(f, o, factors);
            }
            case INTEGER_CODE: {
                String path = at + ".integer_code";
                PackageOuterClass.IntegerCode m = msg.getIntegerCode();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                return new NumberEncoders.IntegerCode(f, outputs(f, m.getOutputsList(), path));
            }
            case MISSING_BAND: {
                String path = at + ".missing_band";
                PackageOuterClass.MissingBand m = msg.getMissingBand();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                perFeature(f.size(), m.getLowCount(), "low", path);
                perFeature(f.size(), m.getHighCount(), "high", path);
                double[] low = ProtobufReader.finite(m.getLowList(), "low", path);
                double[] high = ProtobufReader.finite(m.getHighList(), "high", path);
                for (int j = 0; j < low.length; j++) {
                    if (!(low[j] <= high[j])) throw new PackageException.Malformed(path, "expected low <= high, found " + low[j] + " and " + high[j]);
                }
                return new NumberEncoders.MissingBand(f, outputs(f, m.getOutputsList(), path), low, high);
            }
            case PROJECTION: {
                // PCA's projection (docs/SEMANTICS.md note 25)
                String path = at + ".projection";
                PackageOuterClass.Projection m = msg.getProjection();
                List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
                List<String> o = ProtobufReader.names(m.getOutputsList(), "outputs", true, path);
                int k = o.size(), n = f.size();
                if ((long) m.getComponentsCount() != (long) k * n) {
                    throw new PackageException.ProtobufCount(path + ".components", "expected " + ((long) k * n) + " components, " + k + " outputs times " + n
                            + " features, found " + m.getComponentsCount());
                }
                if (m.getDivisorsCount() != 0 && m.getDivisorsCount() != k) {
                    throw new PackageException.ProtobufCount(path + ".divisors", "expected no divisors or " + k + ", one per output, found " + m.getDivisorsCount());
                }
                Projection.Centring centring = CENTRINGS.get(ProtobufReader.enumValue(m.getCentringValue(), CENTRING_NAMES,
                        PackageOuterClass.Projection.Centring::forNumber, path + ".centring"));
                double[][] components = new double[k][n];
                for (int r = 0; r < k; r++) {
                    for (int j = 0; j < n; j++) components[r][j] = m.getComponents(r * n + j);
                }
                return new Projection(f, o, ProtobufReader.doubles(m.getMeanList()), components,
                        m.getDivisorsCount() == 0 ? null : ProtobufReader.doubles(m.getDivisorsList()), centring, path);
            }
            default:
                throw ProtobufReader.missingOneof(at, "encoder");
        }
    }

    private static Double notInfinite(double v, String what, String path) throws PackageException {
        if (Double.isInfinite(v)) throw new PackageException.Malformed(path, "expected a finite number or NaN as " + what + ", found " + Text.number(v));
        return v;
    }

    private static boolean[] kinds(List<Integer> values, String path) throws PackageException {
        boolean[] categorical = new boolean[values.size()];
        for (int j = 0; j < categorical.length; j++) {
            int k = ProtobufReader.enumValue(values.get(j), ProtobufReader.KINDS, PackageOuterClass.Field.Kind::forNumber, path + ".kinds[" + j + "]");
            categorical[j] = k == PackageOuterClass.Field.Kind.KIND_CATEGORICAL_VALUE;
        }
        return categorical;
    }

    private static void sortTogether(double[] values, String[] categories) {
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(values[a] == 0.0 ? 0.0 : values[a], values[b] == 0.0 ? 0.0 : values[b]));
        double[] v = values.clone();
        String[] c = categories.clone();
        for (int i = 0; i < order.length; i++) {
            values[i] = v[order[i]];
            categories[i] = c[order[i]];
        }
    }

    private static Encoder oneHot(PackageOuterClass.OneHot m, String path) throws PackageException {
        List<String> f = ProtobufReader.names(m.getFeaturesList(), "features", true, path);
        if (new HashSet<>(f).size() != f.size()) throw new PackageException.Malformed(path, "expected distinct names as features, found " + f);
        perFeature(f.size(), m.getBlocksCount(), "blocks", path);
        int n = f.size();
        int[] widths = new int[n];
        int[] missing = new int[n];
        int[] unknown = new int[n];
        long total = 0;
        for (int j = 0; j < n; j++) {
            PackageOuterClass.OneHotBlock b = m.getBlocks(j);
            String where = path + ".blocks[" + j + "]";
            long width = Integer.toUnsignedLong(b.getWidth());
            if (width > MAX_BLOCK_WIDTH) throw new PackageException.LimitExceeded(where, "expected at most " + MAX_BLOCK_WIDTH + " columns in a block, found " + width);
            widths[j] = (int) width;
            total += width;
            if (b.getColumnsCount() != b.getCategoriesCount()) {
                throw new PackageException.ProtobufCount(where, "expected " + b.getCategoriesCount() + " columns, one per category, found " + b.getColumnsCount());
            }
            for (int c = 0; c < b.getColumnsCount(); c++) column(b.getColumns(c), widths[j], where + ".columns[" + c + "]");
            missing[j] = b.hasMissingColumn() ? column(b.getMissingColumn(), widths[j], where + ".missing_column") : Encoders.OneHot.UNKNOWN;
            switch (b.getUnknownCase()) {
                case UNKNOWN_POLICY -> unknown[j] = ProtobufReader.enumValue(b.getUnknownPolicyValue(), UNKNOWN_POLICIES, PackageOuterClass.OneHotBlock.UnknownPolicy::forNumber,
                        where + ".unknown_policy") == 1 ? Encoders.OneHot.ERROR : Encoders.OneHot.ZEROS;
                case UNKNOWN_COLUMN -> unknown[j] = column(b.getUnknownColumn(), widths[j], where + ".unknown_column");
                default -> throw ProtobufReader.missingOneof(where, "unknown");
            }
        }
        if (total != m.getOutputsCount()) {
            throw new PackageException.ProtobufCount(path, "expected " + total + " outputs, one per column of the blocks, found " + m.getOutputsCount());
        }
        if (total == 0) throw new PackageException.Malformed(path, "expected at least one column over all blocks, found none");
        List<String> o = ProtobufReader.names(m.getOutputsList(), "outputs", true, path);
        if (new HashSet<>(o).size() != o.size()) throw new PackageException.Malformed(path, "expected distinct names as outputs, found " + o);
        Encoders.OneHot enc = new Encoders.OneHot(f, o, widths, missing, unknown);
        for (int j = 0; j < n; j++) {
            PackageOuterClass.OneHotBlock b = m.getBlocks(j);
            Map<String, Integer> columns = new HashMap<>();
            for (int c = 0; c < b.getCategoriesCount(); c++) {
                if (columns.put(b.getCategories(c), b.getColumns(c)) != null) {
                    throw new PackageException.Malformed(path + ".blocks[" + j + "]", "expected distinct categories, found " + Text.shown(b.getCategories(c)) + " twice");
                }
            }
            enc.columns.add(columns);
        }
        return enc;
    }

    private static int column(int value, int width, String path) throws PackageException {
        if (value < -1 || value >= width) {
            throw new PackageException.ProtobufIndex(path, "expected a column in [-1, " + width + ") (the block's width), found " + value);
        }
        return value;
    }

    /**
     * A per-feature encoder's outputs as the IR takes them: none is in place (the features), else
     * one distinct name per feature, output i overwriting no other feature than feature i.
     */
    private static List<String> outputs(List<String> features, List<String> outputs, String path) throws PackageException {
        if (new HashSet<>(features).size() != features.size()) throw new PackageException.Malformed(path, "expected distinct names as features, found " + features);
        if (outputs.isEmpty()) return features;
        ProtobufReader.names(outputs, "outputs", true, path);
        if (outputs.size() != features.size()) {
            throw new PackageException.Malformed(path, "expected " + features.size() + " outputs, one per feature, found " + outputs.size());
        }
        if (new HashSet<>(outputs).size() != outputs.size()) throw new PackageException.Malformed(path, "expected distinct names as outputs, found " + outputs);
        for (int i = 0; i < outputs.size(); i++) {
            int at = features.indexOf(outputs.get(i));
            if (at >= 0 && at != i) {
                throw new PackageException.Malformed(path, "expected outputs that overwrite no other input than their own (output " + i + "), found " + Text.shown(outputs.get(i)));
            }
        }
        return List.copyOf(outputs);
    }

    private static void perFeature(int features, int found, String what, String path) throws PackageException {
        if (found != features) throw new PackageException.ProtobufCount(path, "expected " + features + " " + what + " entries, one per feature, found " + found);
    }
}

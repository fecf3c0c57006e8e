package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import crossform.v1.PackageOuterClass;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A protobuf package (docs/formats/protobuf.md): one serialized {@code crossform.v1.Package},
 * read into the model objects the stripe-json reader builds, so scoring and the id are shared.
 * It parses, then audits every count, index and enum before using or allocating by it, as
 * crossform's Python reader (crossform.exporters.protobuf.reader) does, and refuses what that
 * reader refuses with the {@code PackageException.Protobuf*} of the same name. Errors name the
 * file, then the message path inside it ({@code model.pb#Package.model.tree_ensemble.trees[3]}).
 */
final class ProtobufReader {
    static final String NAME = "protobuf";
    static final String MAGIC = "crossform.package";
    static final int MAJOR = 1;
    static final int MINOR = 2;
    static final long MAX_TREES = 1L << 17;
    static final long MAX_NODES = (1L << 31) - 1;
    static final int MAX_OUTPUTS = 1 << 16;
    static final int MAX_SET_SIZE = 65_536;
    private static final Pattern VERSION = Pattern.compile("(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})");
    private static final byte[] PREFIX;

    static {
        byte[] magic = MAGIC.getBytes(StandardCharsets.US_ASCII);
        PREFIX = new byte[magic.length + 2];
        PREFIX[0] = 0x0a;
        PREFIX[1] = (byte) magic.length;
        System.arraycopy(magic, 0, PREFIX, 2, magic.length);
    }

    private final String file;
    private final String root;

    private ProtobufReader(String file) {
        this.file = file;
        this.root = file + "#Package";
    }

    /** Whether the bytes start as a protobuf package does: field 1, the magic. */
    static boolean sniff(byte[] data) {
        if (data.length < PREFIX.length) return false;
        for (int i = 0; i < PREFIX.length; i++) if (data[i] != PREFIX[i]) return false;
        return true;
    }

    static CrossformPackage read(byte[] data, String file) throws PackageException {
        return new ProtobufReader(file).readPackage(data);
    }

    // ------------------------------------------------------------------ the envelope

    private CrossformPackage readPackage(byte[] data) throws PackageException {
        if (data.length > PackageFiles.MAX_FILE_BYTES) {
            throw new PackageException.LimitExceeded(file, "expected at most " + PackageFiles.MAX_FILE_BYTES + " bytes, found " + data.length);
        }
        if (!sniff(data)) {
            byte[] head = java.util.Arrays.copyOf(data, Math.min(data.length, PREFIX.length));
            throw new PackageException.ProtobufMagic(file, "expected a crossform protobuf package, starting with the field 1 magic "
                    + Text.shown(MAGIC) + "; found " + Text.shown(new String(head, StandardCharsets.ISO_8859_1)));
        }
        PackageOuterClass.Package msg;
        try {
            // from a byte array protobuf-java checks every length against the bytes left before
            // reading by it, and nesting against its recursion limit (100)
            msg = PackageOuterClass.Package.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            throw new PackageException.ProtobufDecode(file, "expected a serialized crossform.v1.Package; protobuf says: " + e.getMessage());
        }
        if (!msg.getMagic().equals(MAGIC)) {  // a later duplicate field 1 overrides the first
            throw new PackageException.ProtobufMagic(file, "expected magic " + Text.shown(MAGIC) + ", found " + Text.shown(msg.getMagic()));
        }
        String version = msg.getFormatVersion();
        Matcher m = VERSION.matcher(version);
        if (!m.matches()) {
            throw new PackageException.FormatVersion(file, "expected a format version \"major.minor\" such as \"1.0\", found " + Text.shown(version));
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        if (major != MAJOR) {
            throw new PackageException.FormatVersion(file, "written in protobuf " + version + "; this reader reads protobuf " + MAJOR + ".x");
        }
        if (minor <= MINOR) {
            // a newer minor only adds fields an older reader may drop (docs/FORMATS.md); in its own or
            // an older minor an unknown field, or a oneof member added after it, is refused
            List<String> unknown = new ArrayList<>();
            unknownFields(msg, "Package", unknown, minor);
            if (!unknown.isEmpty()) {
                throw new PackageException.ProtobufUnknownField(file, "expected only the fields of protobuf " + version + ", found unknown " + String.join(", ", unknown));
            }
        }
        List<String> inputs = new ArrayList<>();
        boolean[] categorical = new boolean[msg.getInputsCount()];
        Map<String, Integer> slot = new HashMap<>();
        Map<String, Boolean> kind = new HashMap<>();
        if (msg.getInputsCount() == 0) throw new PackageException.Malformed(root, "expected at least one input field, found none");
        for (int i = 0; i < msg.getInputsCount(); i++) {
            String path = root + ".inputs[" + i + "]";
            PackageOuterClass.Field field = msg.getInputs(i);
            int k = enumValue(field.getKindValue(), KINDS, PackageOuterClass.Field.Kind::forNumber, path + ".kind");
            String name = field.getName();
            if (name.isEmpty()) throw new PackageException.Malformed(path, "expected a non-empty name, found ''");
            if (slot.containsKey(name)) throw new PackageException.Malformed(path, "expected fields with distinct names, found " + Text.shown(name) + " twice");
            inputs.add(name);
            categorical[i] = k == PackageOuterClass.Field.Kind.KIND_CATEGORICAL_VALUE;
            slot.put(name, i);
            kind.put(name, categorical[i]);
        }
        List<Encoder> encoders = new ArrayList<>();
        for (int i = 0; i < msg.getEncodersCount(); i++) {
            String path = root + ".encoders[" + i + "]";
            Encoder encoder = ProtobufEncoders.read(msg.getEncoders(i), path);
            CrossformPackage.wire(encoder, slot, kind, path);
            encoders.add(encoder);
        }
        if (!msg.hasModel()) throw missingOneof(root + ".model", "model");
        String modelPath = root + ".model";
        Model model = model(msg.getModel(), modelPath, true);
        if (minor < 2 && usesExp(model)) {
            // a value 1.2 added to an enum of a member 1.1 has: the file must record 1.2
            throw new PackageException.ProtobufEnum(root, "expected a file of protobuf 1.2 for what it holds (exp transform), found one recording " + version);
        }
        if (msg.hasChecksJson()) {
            JsonNode checks = Json.parse(msg.getChecksJson().toByteArray(), file + "#checks_json");
            if (!checks.isObject()) {
                throw new PackageException.Malformed(file + "#checks_json", "expected the checks as a JSON object, found " + Json.kind(checks));
            }
        }
        String owner = msg.hasOwner() ? msg.getOwner() : null;
        return CrossformPackage.assemble(inputs, categorical, encoders, model, slot, kind, owner, msg.getTagsList(), msg.getMetadataMap(), msg.getId(), file,
                modelPath, "the file");
    }

    /** Every unknown field under {@code msg}, and every oneof member added after the minor the file records. */
    private static void unknownFields(Message msg, String path, List<String> found, int minor) {
        for (int number : new TreeSet<>(msg.getUnknownFields().asMap().keySet())) found.add(path + ": field " + number);
        for (Map.Entry<FieldDescriptor, Object> e : msg.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            int since = memberMinor(f);
            if (since > minor) found.add(path + ": field " + f.getNumber() + " (" + f.getName() + ", added in protobuf 1." + since + ")");
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || f.isMapField()) continue;
            if (f.isRepeated()) {
                List<?> items = (List<?>) e.getValue();
                for (int i = 0; i < items.size(); i++) unknownFields((Message) items.get(i), path + "." + f.getName() + "[" + i + "]", found, minor);
            } else {
                unknownFields((Message) e.getValue(), path + "." + f.getName(), found, minor);
            }
        }
    }

    /** The minor that added a member of Encoder's or Model's oneof (0 for every other field). */
    private static int memberMinor(FieldDescriptor f) {
        String owner = f.getContainingType().getFullName();
        int n = f.getNumber();
        if (owner.equals("crossform.v1.Encoder")) return n <= 3 ? 0 : n <= 7 ? 1 : 2;
        if (owner.equals("crossform.v1.Model")) return n == 1 ? 0 : n <= 3 ? 1 : 2;
        return 0;
    }

    private static boolean usesExp(Model model) {
        if (model instanceof TreeEnsemble) return ((TreeEnsemble) model).postTransform.equals("exp");
        if (model instanceof Composite) {
            for (Model m : ((Composite) model).members) if (usesExp(m)) return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ enums, oneofs, names

    static final Map<Integer, String> KINDS = Map.of(1, "KIND_NUMERIC", 2, "KIND_CATEGORICAL");
    private static final Map<Integer, String> AGGREGATIONS = Map.of(1, "average", 2, "sum");
    private static final Map<Integer, String> POST_TRANSFORMS = Map.of(1, "none", 2, "logistic", 3, "softmax", 4, "isolation", 5, "exp");
    /** tree_ensemble and linear_model: the values 1.0 has (isolation needs its parameters, exp came later). */
    private static final Map<Integer, String> PLAIN_POST_TRANSFORMS = Map.of(1, "none", 2, "logistic", 3, "softmax");
    private static final Map<Integer, String> MISSING_RULES = Map.of(1, "route", 2, "error");
    private static final Map<Integer, String> INFINITE_RULES = Map.of(1, "error", 2, "compare");
    private static final Map<Integer, String> COMBINATIONS = Map.of(1, "average", 2, "vote", 3, "stack", 4, "calibrate", 5, "target");
    private static final Map<Integer, String> CALIBRATION_METHODS = Map.of(0, "sigmoid", 1, "isotonic");
    private static final Map<Integer, Composite.TargetOperation> TARGET_OPERATIONS = Map.of(
            1, Composite.TargetOperation.ADD, 2, Composite.TargetOperation.SUBTRACT, 3, Composite.TargetOperation.MULTIPLY,
            4, Composite.TargetOperation.DIVIDE, 5, Composite.TargetOperation.EXP, 6, Composite.TargetOperation.EXPM1);
    private static final Map<Integer, String> TARGET_OPERATION_NAMES = Map.of(1, "add", 2, "subtract", 3, "multiply", 4, "divide", 5, "exp", 6, "expm1");

    /** The enum's value when {@code table} allows it, else a ProtobufEnum naming what was found. */
    static <E extends com.google.protobuf.ProtocolMessageEnum> int enumValue(int value, Map<Integer, String> table, java.util.function.IntFunction<E> names,
            String path) throws PackageException {
        if (table.containsKey(value)) return value;
        E known = names.apply(value);
        String shown = known == null ? String.valueOf(value) : known.getValueDescriptor().getName();
        List<String> allowed = new ArrayList<>();
        for (int v : new TreeSet<>(table.keySet())) {
            E e = names.apply(v);
            allowed.add(e == null ? String.valueOf(v) : e.getValueDescriptor().getName());
        }
        throw new PackageException.ProtobufEnum(path, "expected one of " + String.join(", ", allowed) + ", found " + shown);
    }

    static PackageException missingOneof(String path, String oneof) {
        return new PackageException.ProtobufMissing(path, "expected one member of the oneof '" + oneof + "' to be set, found none");
    }

    private static PackageException.ProtobufMissing missingField(String path, String field) {
        return new PackageException.ProtobufMissing(path, "expected the field '" + field + "' to be set, found none");
    }

    /** Names as the IR takes them: non-empty strings, at least one when {@code nonEmpty}. */
    static List<String> names(List<String> names, String what, boolean nonEmpty, String path) throws PackageException {
        if (nonEmpty && names.isEmpty()) throw new PackageException.Malformed(path, "expected a non-empty sequence of names as " + what + ", found none");
        for (String n : names) {
            if (n.isEmpty()) throw new PackageException.Malformed(path, "expected non-empty strings as " + what + ", found ''");
        }
        return List.copyOf(names);
    }


    static double finite(double v, String what, String path) throws PackageException {
        if (!Double.isFinite(v)) throw new PackageException.Malformed(path, "expected finite numbers as " + what + ", found " + Text.number(v));
        return v;
    }

    static double[] finite(List<Double> values, String what, String path) throws PackageException {
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = finite(values.get(i), what, path);
        return out;
    }

    static double[] doubles(List<Double> values) {
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        return out;
    }

    // ------------------------------------------------------------------ models

    private Model model(PackageOuterClass.Model msg, String at, boolean composite) throws PackageException {
        switch (msg.getModelCase()) {
            case TREE_ENSEMBLE:
                return ensemble(msg.getTreeEnsemble(), at + ".tree_ensemble", null, null, false, new double[0], new double[0]);
            case LINEAR_MODEL:
                return linear(msg.getLinearModel(), at + ".linear_model");
            case TREE_ENSEMBLE_WITH_RULES: {
                String path = at + ".tree_ensemble_with_rules";
                PackageOuterClass.TreeEnsembleWithRules rules = msg.getTreeEnsembleWithRules();
                if (!rules.hasEnsemble()) throw missingField(path, "ensemble");
                return ensemble(rules.getEnsemble(), path + ".ensemble", rules, path, false, new double[0], new double[0]);
            }
            case TREE_ENSEMBLE_FLOAT32: {
                String path = at + ".tree_ensemble_float32";
                PackageOuterClass.TreeEnsembleFloat32 m = msg.getTreeEnsembleFloat32();
                PackageOuterClass.TreeEnsembleWithRules rules = rules(m.hasRules(), m.getRules(), path);
                return ensemble(rules.getEnsemble(), path + ".rules.ensemble", rules, path + ".rules", true, new double[0], new double[0]);
            }
            case TREE_ENSEMBLE_DIVIDED: {
                String path = at + ".tree_ensemble_divided";
                PackageOuterClass.TreeEnsembleDivided m = msg.getTreeEnsembleDivided();
                PackageOuterClass.TreeEnsembleWithRules rules = rules(m.hasRules(), m.getRules(), path);
                if (m.getDivisorsCount() == 0) throw new PackageException.ProtobufMissing(path + ".divisors", "expected one or more divisors, found none");
                double[] divisors = doubles(m.getDivisorsList());
                for (int i = 0; i < divisors.length; i++) {
                    if (!(Double.isFinite(divisors[i]) && divisors[i] > 0)) {
                        throw new PackageException.ProtobufValue(path + ".divisors[" + i + "]", "expected a finite number > 0, found " + Text.number(divisors[i]));
                    }
                }
                return ensemble(rules.getEnsemble(), path + ".rules.ensemble", rules, path + ".rules", false, divisors, new double[0]);
            }
            case TREE_ENSEMBLE_WEIGHTED_MEDIAN: {
                String path = at + ".tree_ensemble_weighted_median";
                PackageOuterClass.TreeEnsembleWeightedMedian m = msg.getTreeEnsembleWeightedMedian();
                PackageOuterClass.TreeEnsembleWithRules rules = rules(m.hasRules(), m.getRules(), path);
                int trees = rules.getEnsemble().getTreesCount();
                if (m.getTreeWeightsCount() != trees) {
                    throw new PackageException.ProtobufValue(path + ".tree_weights", "expected one weight per tree (" + trees + "), found " + m.getTreeWeightsCount());
                }
                double[] weights = doubles(m.getTreeWeightsList());
                double total = 0.0;
                for (int i = 0; i < weights.length; i++) {
                    if (!(Double.isFinite(weights[i]) && weights[i] >= 0)) {
                        throw new PackageException.ProtobufValue(path + ".tree_weights[" + i + "]", "expected a finite number >= 0, found " + Text.number(weights[i]));
                    }
                    total += weights[i];
                }
                if (!(total > 0)) throw new PackageException.ProtobufValue(path + ".tree_weights", "expected weights summing to more than 0, found a sum of 0");
                return ensemble(rules.getEnsemble(), path + ".rules.ensemble", rules, path + ".rules", false, new double[0], weights);
            }
            case COMPOSITE:
                if (!composite) throw new PackageException.ProtobufUnexpected(at, "expected a tree ensemble or a linear model, found a composite");
                return composite(msg.getComposite(), at + ".composite");
            default:
                throw missingOneof(at, "model");
        }
    }

    private static PackageOuterClass.TreeEnsembleWithRules rules(boolean has, PackageOuterClass.TreeEnsembleWithRules rules, String path) throws PackageException {
        if (!has) throw missingField(path, "rules");
        if (!rules.hasEnsemble()) throw missingField(path + ".rules", "ensemble");
        return rules;
    }

    private List<JsonNode> classes(List<PackageOuterClass.ClassLabel> labels, String path) throws PackageException {
        if (labels.size() > MAX_OUTPUTS) throw new PackageException.LimitExceeded(path, "expected at most " + MAX_OUTPUTS + " outputs, found " + labels.size() + " classes");
        if (labels.isEmpty()) return null;
        List<JsonNode> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < labels.size(); i++) {
            PackageOuterClass.ClassLabel label = labels.get(i);
            String where = path + ".classes[" + i + "]";
            JsonNode node = switch (label.getLabelCase()) {
                case TEXT -> TextNode.valueOf(label.getText());
                case INTEGER -> LongNode.valueOf(label.getInteger());
                case NUMBER -> DoubleNode.valueOf(finite(label.getNumber(), "class labels", where));
                case BOOLEAN -> BooleanNode.valueOf(label.getBoolean());
                default -> throw missingOneof(where, "label");
            };
            // distinct also as text, as the IR requires (1 and 1.0 and "1" name one class)
            String text = node.isBoolean() ? (node.booleanValue() ? "True" : "False")
                    : node.isTextual() ? node.textValue() : node.isIntegralNumber() ? Long.toString(node.longValue()) : shortest(node.doubleValue());
            if (!seen.add(text)) throw new PackageException.Malformed(path, "expected distinct class labels (also as text), found " + Text.shown(text) + " twice");
            out.add(node);
        }
        if (out.size() < 2) throw new PackageException.Malformed(path, "expected two or more class labels, found " + out.size());
        return List.copyOf(out);
    }

    private static String shortest(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e16 ? Long.toString((long) v) : Double.toString(v);
    }

    /** {@code width} scores: one per class, or one for a regressor or for two classes (binary). */
    private static void checkWidth(List<JsonNode> classes, long width, String path, String what) throws PackageException {
        if (width > MAX_OUTPUTS) throw new PackageException.LimitExceeded(path, "expected at most " + MAX_OUTPUTS + " outputs, found " + width);
        int n = classes == null ? 0 : classes.size();
        if ((width == 1 && (n == 0 || n == 2)) || (n > 0 && width == n)) return;
        String wanted = n > 0 ? n + " (one per class)" + (n == 2 ? " or 1 (two classes from one score)" : "") : "1 (a regressor, no classes)";
        throw new PackageException.ProtobufCount(path, "expected " + what + " to be " + wanted + ", found " + width);
    }

    private TreeEnsemble ensemble(PackageOuterClass.TreeEnsemble msg, String path, PackageOuterClass.TreeEnsembleWithRules rules, String rulesPath,
            boolean float32, double[] divisors, double[] treeWeights) throws PackageException {
        String aggregation;
        if (treeWeights.length > 0) {  // tree_ensemble_weighted_median: the member states the aggregation
            if (msg.getAggregationValue() != 0) {
                throw new PackageException.ProtobufUnexpected(path + ".aggregation",
                        "expected no aggregation inside tree_ensemble_weighted_median, which states its own, found the value " + msg.getAggregationValue());
            }
            aggregation = "weighted-median";
        } else {
            aggregation = AGGREGATIONS.get(enumValue(msg.getAggregationValue(), AGGREGATIONS, PackageOuterClass.TreeEnsemble.Aggregation::forNumber, path + ".aggregation"));
        }
        Map<Integer, String> posts = rules == null ? PLAIN_POST_TRANSFORMS : POST_TRANSFORMS;
        String post = posts.get(enumValue(msg.getPostTransformValue(), posts, PackageOuterClass.TreeEnsemble.PostTransform::forNumber, path + ".post_transform"));
        List<JsonNode> classes = classes(msg.getClassesList(), path);
        String missing = "route";
        String infinite = "error";
        double[] isolation = null;
        int width;
        boolean hasSets = false;
        if (rules == null) {
            width = classes == null ? 1 : classes.size();
        } else {
            long w = Integer.toUnsignedLong(rules.getLeafWidth());
            checkWidth(classes, w, path, "leaf_width");
            width = (int) w;
            missing = MISSING_RULES.get(enumValue(rules.getMissingValue(), MISSING_RULES, PackageOuterClass.TreeEnsembleWithRules.Missing::forNumber, rulesPath + ".missing"));
            infinite = INFINITE_RULES.get(enumValue(rules.getInfiniteValue(), INFINITE_RULES, PackageOuterClass.TreeEnsembleWithRules.Infinite::forNumber, rulesPath + ".infinite"));
            isolation = isolation(rules, post, rulesPath);
            if (rules.getTreeSetsCount() > 0) {
                if (rules.getTreeSetsCount() != msg.getTreesCount()) {
                    throw new PackageException.ProtobufCount(rulesPath, "expected " + msg.getTreesCount() + " tree_sets, one per tree (or none), found " + rules.getTreeSetsCount());
                }
                hasSets = true;
            }
        }
        if (msg.getTreesCount() > MAX_TREES) throw new PackageException.LimitExceeded(path, "expected at most " + MAX_TREES + " trees, found " + msg.getTreesCount());
        long nodes = 0;
        for (PackageOuterClass.Tree t : msg.getTreesList()) nodes += t.getFeatureCount();
        if (nodes > MAX_NODES) throw new PackageException.LimitExceeded(path, "expected at most " + MAX_NODES + " nodes over all trees, found " + nodes);
        List<String> features = names(msg.getFeaturesList(), "features", false, path);
        Tree[] trees = new Tree[msg.getTreesCount()];
        boolean anySet = false;
        for (int i = 0; i < trees.length; i++) {
            trees[i] = tree(msg.getTrees(i), width, features.size(), path + ".trees[" + i + "]", rules == null,
                    hasSets ? rules.getTreeSets(i) : null, rulesPath + ".tree_sets[" + i + "]");
            anySet |= trees[i].hasSets();
        }
        if (hasSets && !anySet) {
            throw new PackageException.ProtobufUnexpected(rulesPath + ".tree_sets", "expected tree_sets only when a tree has a set node, found no set node in any");
        }
        // the IR's rules for what the messages leave open
        if (trees.length == 0) throw new PackageException.Malformed(path, "expected a non-empty sequence of trees, found none");
        if (new HashSet<>(features).size() != features.size()) throw new PackageException.Malformed(path, "expected distinct names as features, found " + features);
        if (post.equals("softmax") && width < 2) throw new PackageException.Malformed(path, "expected post transform 'softmax' only with two or more outputs, found 1 output");
        if (post.equals("exp") && (classes != null || width != 1)) throw new PackageException.Malformed(path, "expected post transform 'exp' only in a regressor of one output");
        if (classes != null && width == 1 && !post.equals("logistic")) {
            throw new PackageException.Malformed(path, "expected two classes from one score only under post transform 'logistic', found " + Text.shown(post));
        }
        if (isolation != null && (classes != null || !aggregation.equals("sum") || width != 1)) {
            throw new PackageException.Malformed(path, "expected isolation scores from a sum of one output without classes");
        }
        double[] base = null;
        if (aggregation.equals("sum") || msg.getBaseValueCount() > 0) {
            if (!aggregation.equals("sum")) throw new PackageException.Malformed(path, "expected no base_value when aggregation is 'average', found " + msg.getBaseValueCount());
            if (msg.getBaseValueCount() != width) throw new PackageException.Malformed(path, "expected " + width + " base values, one per output, found " + msg.getBaseValueCount());
            base = finite(msg.getBaseValueList(), "base_value", path);
        }
        if (float32 && isolation != null) {
            throw new PackageException.UnsupportedKind(path, "float32 accumulation with divisors, a weighted median or isolation scores");
        }
        return new TreeEnsemble(features, trees, width, aggregation, post, classes, base, missing, infinite, divisors, isolation, treeWeights, float32);
    }

    private static double[] isolation(PackageOuterClass.TreeEnsembleWithRules rules, String post, String path) throws PackageException {
        if (!post.equals("isolation")) {
            if (rules.hasIsolation()) throw new PackageException.ProtobufUnexpected(path + ".isolation", "expected no isolation with post transform " + Text.shown(post) + ", found one");
            return null;
        }
        if (!rules.hasIsolation()) throw new PackageException.ProtobufMissing(path + ".isolation", "expected isolation with POST_TRANSFORM_ISOLATION, found none");
        PackageOuterClass.Isolation m = rules.getIsolation();
        if (!m.hasDenominator()) throw missingField(path + ".isolation", "denominator");
        if (!m.hasOffset()) throw missingField(path + ".isolation", "offset");
        if (!(Double.isFinite(m.getDenominator()) && m.getDenominator() > 0)) {
            throw new PackageException.ProtobufValue(path + ".isolation.denominator", "expected a finite number > 0, found " + Text.number(m.getDenominator()));
        }
        if (!Double.isFinite(m.getOffset())) {
            throw new PackageException.ProtobufValue(path + ".isolation.offset", "expected a finite number, found " + Text.number(m.getOffset()));
        }
        return new double[] {m.getDenominator(), m.getOffset()};
    }

    /** One tree, every count and index checked before anything is sized by it. */
    private static Tree tree(PackageOuterClass.Tree msg, int width, int nFeatures, String path, boolean plain, PackageOuterClass.TreeSets sets,
            String setsPath) throws PackageException {
        int n = msg.getFeatureCount();
        if (n == 0) throw new PackageException.ProtobufCount(path, "expected at least one node, found none");
        if (msg.getLeftCount() != n || msg.getRightCount() != n) {
            throw new PackageException.ProtobufCount(path, "expected feature, left and right of one length (one per node), found " + n + ", "
                    + msg.getLeftCount() + " and " + msg.getRightCount());
        }
        int[] feature = new int[n];
        int[] left = new int[n];
        int[] right = new int[n];
        for (int i = 0; i < n; i++) {
            feature[i] = msg.getFeature(i);
            left[i] = msg.getLeft(i);
            right[i] = msg.getRight(i);
        }
        int leaves = 0;
        for (int i = 0; i < n; i++) if (left[i] == -1) leaves++;
        int splits = n - leaves;
        String[] names = {"left", "right", "feature"};
        int[][] arrays = {left, right, feature};
        int[] low = {1, 1, 0};
        int[] high = {n, n, nFeatures};
        for (int i = 0; i < n; i++) {
            boolean leaf = left[i] == -1;
            for (int a = 0; a < 3; a++) {
                int v = arrays[a][i];
                if (leaf ? v != -1 : v < low[a] || v >= high[a]) {
                    String wanted = leaf ? "-1" : "in [" + low[a] + ", " + high[a] + ")";
                    throw new PackageException.ProtobufIndex(path, "expected " + names[a] + " " + wanted + " at " + (leaf ? "leaf " : "split node ") + i + ", found " + v);
                }
            }
        }
        if (leaves != splits + 1) {
            // before the (nodes x outputs) leaf values are sized: without leaves a small file could ask for gigabytes
            throw new PackageException.ProtobufCount(path, "expected " + (splits + 1) + " leaves (left -1) for " + splits
                    + " split nodes, as every binary tree has, found " + leaves);
        }
        long wantValues = (long) leaves * width;
        if (msg.getThresholdCount() != splits || msg.getMissingLeftCount() != splits || msg.getLeafValueCount() != wantValues) {
            String name = msg.getThresholdCount() != splits ? "threshold" : msg.getMissingLeftCount() != splits ? "missing_left" : "leaf_value";
            long want = name.equals("leaf_value") ? wantValues : splits;
            int count = name.equals("threshold") ? msg.getThresholdCount() : name.equals("missing_left") ? msg.getMissingLeftCount() : msg.getLeafValueCount();
            throw new PackageException.ProtobufCount(path, "expected " + want + " " + name + " entries for " + splits + " split nodes, " + leaves + " leaves and "
                    + width + " outputs; found " + count);
        }
        // each node but the root has one parent, and all are reachable from the root: one tree
        int[] parents = new int[n];
        for (int i = 0; i < n; i++) {
            if (left[i] != -1) {
                parents[left[i]]++;
                parents[right[i]]++;
            }
        }
        for (int i = 1; i < n; i++) {
            if (parents[i] != 1) {
                throw new PackageException.Malformed(path, "expected child links forming one tree (each node but the root has one parent), found node " + i + " with " + parents[i] + " parents");
            }
        }
        int reached = 0;
        int[] stack = new int[n];
        int top = 0;
        stack[top++] = 0;
        while (top > 0) {
            int node = stack[--top];
            reached++;
            if (left[node] != -1) {
                if (top + 2 > n) break;  // more nodes than the tree has: a cycle, reported below
                stack[top++] = left[node];
                stack[top++] = right[node];
            }
            if (reached > n) break;
        }
        if (reached != n) {
            throw new PackageException.Malformed(path, "expected child links forming one tree (every node reachable from the root), found " + (reached < n ? (n - reached) + " unreachable nodes" : "a cycle"));
        }
        double[] threshold = new double[n];
        boolean[] missingLeft = new boolean[n];
        double[] value = new double[n * width];
        int s = 0;
        int l = 0;
        for (int i = 0; i < n; i++) {
            if (left[i] != -1) {
                threshold[i] = msg.getThreshold(s);
                missingLeft[i] = msg.getMissingLeft(s);
                s++;
            } else {
                for (int k = 0; k < width; k++) {
                    double v = msg.getLeafValue(l * width + k);
                    if (!Double.isFinite(v)) throw new PackageException.Malformed(path, "expected finite numbers as leaf values, found " + Text.number(v) + " at leaf " + i);
                    value[i * width + k] = v;
                }
                l++;
            }
        }
        double[][] nodeSets = sets == null ? null : sets(sets, left, setsPath);
        for (int i = 0; i < n; i++) {
            if (left[i] == -1) continue;
            double t = threshold[i];
            if (Double.isNaN(t) || t == Double.NEGATIVE_INFINITY || (plain && t == Double.POSITIVE_INFINITY)) {
                String allowed = plain ? "finite" : "finite or +inf";
                String note = plain && t == Double.POSITIVE_INFINITY ? " (+inf only in tree_ensemble_with_rules, since 1.1)" : "";
                throw new PackageException.ProtobufValue(path, "expected a " + allowed + " threshold at split node " + i + note + ", found " + Text.number(t));
            }
        }
        if (nodeSets != null) {
            for (int i = 0; i < n; i++) {
                if (nodeSets[i] != null && threshold[i] != 0.0) {
                    throw new PackageException.ProtobufValue(path, "expected threshold 0.0 at set node " + i + ", found " + Text.number(threshold[i]));
                }
            }
        }
        return new Tree(feature, threshold, missingLeft, left, right, nodeSets, value, width);
    }

    /** A tree's TreeSets: null when it has no set node, else per node null or its set. */
    private static double[][] sets(PackageOuterClass.TreeSets msg, int[] left, String path) throws PackageException {
        int n = left.length;
        int count = msg.getNodesCount();
        if (msg.getSizesCount() != count) throw new PackageException.ProtobufCount(path, "expected " + count + " sizes, one per set node, found " + msg.getSizesCount());
        long total = 0;
        for (int i = 0; i < count; i++) {
            long node = Integer.toUnsignedLong(msg.getNodes(i));
            if (node >= n) throw new PackageException.ProtobufIndex(path + ".nodes[" + i + "]", "expected a node in [0, " + n + "), found " + node);
            if (left[(int) node] == -1) {
                throw new PackageException.ProtobufIndex(path + ".nodes[" + i + "]", "expected a split node (a set is tested at split nodes only), found leaf " + node);
            }
            if (i > 0 && node <= Integer.toUnsignedLong(msg.getNodes(i - 1))) {
                throw new PackageException.ProtobufOrder(path + ".nodes[" + i + "]", "expected set nodes strictly ascending, found " + node + " after "
                        + Integer.toUnsignedLong(msg.getNodes(i - 1)));
            }
        }
        for (int i = 0; i < count; i++) {
            long size = Integer.toUnsignedLong(msg.getSizes(i));
            if (size > MAX_SET_SIZE) throw new PackageException.LimitExceeded(path + ".sizes[" + i + "]", "expected at most " + MAX_SET_SIZE + " values in a set, found " + size);
            total += size;
        }
        if (msg.getValuesCount() != total) throw new PackageException.ProtobufCount(path, "expected " + total + " values (the sum of sizes), found " + msg.getValuesCount());
        int start = 0;
        double[][] out = count == 0 ? null : new double[n][];
        for (int i = 0; i < count; i++) {
            int size = msg.getSizes(i);
            double[] set = new double[size];
            for (int j = 0; j < size; j++) {
                double v = msg.getValues(start + j);
                if (!Double.isFinite(v)) throw new PackageException.ProtobufValue(path + ".values[" + (start + j) + "]", "expected finite set values, found " + Text.number(v));
                if (j > 0 && !(v > set[j - 1])) {
                    throw new PackageException.ProtobufOrder(path + ".values[" + (start + j) + "]", "expected each set's values strictly ascending (distinct), found "
                            + Text.number(v) + " after " + Text.number(set[j - 1]));
                }
                set[j] = v;
            }
            out[msg.getNodes(i)] = set;
            start += size;
        }
        if (count == 0 && msg.getValuesCount() > 0) throw new PackageException.ProtobufCount(path, "expected no values without set nodes, found " + msg.getValuesCount());
        return out;
    }

    private LinearModel linear(PackageOuterClass.LinearModel msg, String path) throws PackageException {
        String post = PLAIN_POST_TRANSFORMS.get(enumValue(msg.getPostTransformValue(), PLAIN_POST_TRANSFORMS, PackageOuterClass.TreeEnsemble.PostTransform::forNumber,
                path + ".post_transform"));
        List<JsonNode> classes = classes(msg.getClassesList(), path);
        int k = msg.getInterceptsCount();
        List<String> features = names(msg.getFeaturesList(), "features", false, path);
        int n = features.size();
        if (k == 0) throw new PackageException.ProtobufCount(path, "expected at least one intercept (one per output), found none");
        checkWidth(classes, k, path, "the number of intercepts (outputs)");
        if (msg.getCoefficientsCount() != (long) k * n) {
            throw new PackageException.ProtobufCount(path, "expected " + ((long) k * n) + " coefficients (" + k + " outputs x " + n + " features), found " + msg.getCoefficientsCount());
        }
        if (new HashSet<>(features).size() != n) throw new PackageException.Malformed(path, "expected distinct names as features, found " + features);
        double[][] coefficients = new double[k][n];
        for (int o = 0; o < k; o++) {
            for (int j = 0; j < n; j++) coefficients[o][j] = finite(msg.getCoefficients(o * n + j), "coefficients", path);
        }
        double[] intercepts = finite(msg.getInterceptsList(), "intercepts", path);
        if (post.equals("softmax") && k < 2) throw new PackageException.Malformed(path, "expected post transform 'softmax' only with two or more outputs, found 1 output");
        if (classes != null && k == 1 && !post.equals("none") && !post.equals("logistic")) {
            throw new PackageException.Malformed(path, "expected two classes from one score only under post transform 'none' or 'logistic', found " + Text.shown(post));
        }
        return new LinearModel(features, coefficients, intercepts, post, classes);
    }

    private Composite composite(PackageOuterClass.Composite msg, String path) throws PackageException {
        String combination = COMBINATIONS.get(enumValue(msg.getCombinationValue(), COMBINATIONS, PackageOuterClass.Composite.Combination::forNumber,
                path + ".combination"));
        if (msg.getMembersCount() == 0) throw new PackageException.ProtobufCount(path, "expected at least one member, found none");
        Model[] members = new Model[msg.getMembersCount()];
        for (int i = 0; i < members.length; i++) members[i] = model(msg.getMembers(i), path + ".members[" + i + "]", false);
        if (msg.getWeightsCount() != members.length) {
            throw new PackageException.ProtobufCount(path, "expected " + members.length + " weights, one per member, found " + msg.getWeightsCount());
        }
        List<JsonNode> classes = classes(msg.getClassesList(), path);
        LinearModel fin = null;
        if (msg.hasFinal()) {
            PackageOuterClass.Model f = msg.getFinal();
            if (f.getModelCase() == PackageOuterClass.Model.ModelCase.MODEL_NOT_SET) throw missingOneof(path + ".final", "model");
            if (f.getModelCase() != PackageOuterClass.Model.ModelCase.LINEAR_MODEL) {
                throw new PackageException.ProtobufUnexpected(path + ".final", "expected a linear model, found " + f.getModelCase().name().toLowerCase(java.util.Locale.ROOT));
            }
            fin = linear(f.getLinearModel(), path + ".final.linear_model");
        }
        String method = CALIBRATION_METHODS.get(enumValue(msg.getCalibrationMethodValue(), CALIBRATION_METHODS,
                PackageOuterClass.Composite.CalibrationMethod::forNumber, path + ".calibration_method"));
        boolean calibrate = combination.equals("calibrate");
        if (!calibrate && (!method.equals("sigmoid") || msg.getCalibrationPointsCount() > 0)) {
            throw new PackageException.ProtobufUnexpected(path, "expected a calibration method and points only under COMBINATION_CALIBRATE");
        }
        if (!method.equals("isotonic") && msg.getCalibrationPointsCount() > 0) {
            throw new PackageException.ProtobufUnexpected(path, "expected calibration points only under CALIBRATION_METHOD_ISOTONIC");
        }
        if (!calibrate && msg.getCalibrationCount() > 0) throw new PackageException.ProtobufUnexpected(path, "expected calibration numbers only under COMBINATION_CALIBRATE");
        if (msg.getTargetStepsCount() > 0 && !Set.of("target", "average", "stack").contains(combination)) {
            throw new PackageException.ProtobufUnexpected(path, "expected target steps only under COMBINATION_TARGET, COMBINATION_AVERAGE or COMBINATION_STACK");
        }
        // TransformedTargetRegressor's inverse steps (docs/SEMANTICS.md notes 22-23)
        Composite.TargetStep[] steps = new Composite.TargetStep[msg.getTargetStepsCount()];
        for (int i = 0; i < steps.length; i++) {
            PackageOuterClass.Composite.TargetStep step = msg.getTargetSteps(i);
            String where = path + ".target_steps[" + i + "]";
            Composite.TargetOperation op = TARGET_OPERATIONS.get(enumValue(step.getOperationValue(), TARGET_OPERATION_NAMES,
                    PackageOuterClass.Composite.TargetStep.Operation::forNumber, where + ".operation"));
            if (step.hasNumber() != op.takesNumber) {
                throw new PackageException.ProtobufUnexpected(where, "expected " + (op.takesNumber ? "a number" : "no number") + " with operation " + Text.shown(op.written));
            }
            steps[i] = Composite.TargetStep.of(op, step.hasNumber() ? step.getNumber() : null, where);
        }
        // the IR's rules for members, weights, divisor and classes (crossform.ir.models.Composite)
        for (int i = 1; i < members.length; i++) Composite.checkMemberFeatures(members[0], members[i], path + ".members[" + i + "]");
        double[] weights = finite(msg.getWeightsList(), "weights", path);
        double divisor = finite(msg.getDivisor(), "the divisor", path);
        if (divisor == 0.0) throw new PackageException.Malformed(path, "expected a divisor other than 0, found 0.0");
        if (combination.equals("stack") != (fin != null)) throw new PackageException.Malformed(path, "expected a final model exactly under combination 'stack'");
        // what scoring reads of the members' outputs, so no file makes it read past them
        if (combination.equals("average")) {
            for (int i = 1; i < members.length; i++) {
                if (members[i].outputs() != members[0].outputs()) {
                    throw new PackageException.Malformed(path + ".members[" + i + "]", "expected the " + members[0].outputs() + " outputs of the first member, found " + members[i].outputs());
                }
            }
        }
        if (fin != null) {
            int width = passthrough(msg) ? members[0].features().size() : 0;
            for (Model m : members) {
                List<JsonNode> c = Composite.classesOf(m);
                width += c != null && c.size() == 2 && m.outputs() == 2 ? 1 : m.outputs();
            }
            if (fin.features().size() != width) {
                throw new PackageException.Malformed(path + ".final", "expected a final model over the members' " + width + " columns, found " + fin.features().size() + " features");
            }
        }
        if (combination.equals("vote") && classes == null) throw new PackageException.Malformed(path, "expected class labels under 'vote'");
        if (!combination.equals("stack") && msg.getPassthrough()) throw new PackageException.Malformed(path, "expected passthrough False unless combination is 'stack'");
        if (combination.equals("vote")) {
            for (double w : weights) if (!(w >= 0)) throw new PackageException.Malformed(path, "expected weights >= 0 under 'vote', found " + w);
            if (divisor != 1.0) throw new PackageException.Malformed(path, "expected divisor 1.0 under 'vote' (votes are not divided), found " + divisor);
        }
        if (calibrate) {
            for (double w : weights) {
                if (w != 1.0 || divisor != members.length) {
                    throw new PackageException.Malformed(path, "expected weights 1.0 and the member count as divisor under 'calibrate'");
                }
            }
        }
        if (fin != null && classes != null && !classes.equals(fin.classes)) {
            throw new PackageException.Malformed(path, "expected the final model's classes " + fin.classes + ", found " + classes);
        }
        double[][][] calibration = null;
        boolean isotonic = method.equals("isotonic");
        if (calibrate) {
            if (classes == null) throw new PackageException.Malformed(path, "expected class labels under 'calibrate'");
            int[] widths = calibrationWidths(members, classes.size(), path);
            int columns = 0;
            for (int w : widths) columns += w;
            calibration = new double[members.length][][];
            if (isotonic) {
                if (msg.getCalibrationPointsCount() != columns) {
                    throw new PackageException.ProtobufCount(path, "expected " + columns + " calibration point counts, one per response column, found " + msg.getCalibrationPointsCount());
                }
                long points = 0;
                for (int c = 0; c < columns; c++) points += Integer.toUnsignedLong(msg.getCalibrationPoints(c));
                if (2 * points != msg.getCalibrationCount()) {
                    throw new PackageException.ProtobufCount(path, "expected " + (2 * points) + " calibration numbers ((x, y) per breakpoint), found " + msg.getCalibrationCount());
                }
                int at = 0;
                int c = 0;
                for (int i = 0; i < members.length; i++) {
                    calibration[i] = new double[widths[i]][];
                    for (int col = 0; col < widths[i]; col++, c++) {
                        int count = msg.getCalibrationPoints(c);
                        if (count == 0) throw new PackageException.Malformed(path, "expected at least one breakpoint per response column, found none");
                        double[] xy = new double[2 * count];
                        for (int p = 0; p < 2 * count; p++) xy[p] = finite(msg.getCalibration(at + p), "calibration", path);
                        for (int p = 1; p < count; p++) {
                            if (!(xy[2 * p] > xy[2 * p - 2])) throw new PackageException.Malformed(path, "expected breakpoints with x strictly rising");
                        }
                        calibration[i][col] = xy;
                        at += 2 * count;
                    }
                }
            } else {
                if (msg.getCalibrationCount() != 2L * columns) {
                    throw new PackageException.ProtobufCount(path, "expected " + (2 * columns) + " calibration numbers ((a, b) per response column), found " + msg.getCalibrationCount());
                }
                int at = 0;
                for (int i = 0; i < members.length; i++) {
                    calibration[i] = new double[widths[i]][];
                    for (int col = 0; col < widths[i]; col++, at += 2) {
                        calibration[i][col] = new double[] {finite(msg.getCalibration(at), "calibration", path), finite(msg.getCalibration(at + 1), "calibration", path)};
                    }
                }
            }
        }
        Composite.checkTargetSteps(steps.length, combination, members, weights, divisor, classes, fin, path);
        return new Composite(combination, members, weights, divisor, classes, fin, msg.getPassthrough(), calibration, isotonic, steps);
    }

    private static boolean passthrough(PackageOuterClass.Composite msg) {
        return msg.getPassthrough();
    }

    /** Per member, how many response columns calibration reads: one for two classes, else one per class. */
    private static int[] calibrationWidths(Model[] members, int nClasses, String path) throws PackageException {
        int[] widths = new int[members.length];
        for (int i = 0; i < members.length; i++) {
            widths[i] = nClasses == 2 ? 1 : nClasses;
            int outputs = members[i].outputs();
            if (!(outputs == widths[i] || (nClasses == 2 && outputs == 2))) {
                throw new PackageException.Malformed(path + ".members[" + i + "]", "expected a member of " + widths[i] + " response columns for " + nClasses
                        + " classes under 'calibrate', found " + outputs + " outputs");
            }
        }
        return widths;
    }
}

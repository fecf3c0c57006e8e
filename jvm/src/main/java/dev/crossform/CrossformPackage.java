package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A stripe-json package read from a directory (docs/formats/stripe-json.md), its id recomputed
 * and checked, ready to score rows by docs/SEMANTICS.md.
 *
 * <pre>
 * CrossformPackage pkg = CrossformPackage.load(Path.of("model-dir"));
 * CrossformPackage.Result r = pkg.score(Map.of("age", 42.0, "city", "Paris"));
 * </pre>
 */
public final class CrossformPackage {
    static final String MANIFEST = "MODEL";
    static final Set<String> TREE_MODEL_TYPES = Set.of(
            "simple-bonsai-classification-forest", "simple-bonsai-regression-forest",
            "simple-bonsai-classification-boosted-trees", "simple-bonsai-regression-boosted-trees",
            "simple-bonsai-isolation-forest");
    /** stripe-json 1.x's tree models (trees as JSON arrays, {@link JsonTrees}). */
    static final Set<String> JSON_TREE_MODEL_TYPES = Set.of(
            "simple-json-classification-forest", "simple-json-regression-forest",
            "simple-json-classification-boosted-trees", "simple-json-regression-boosted-trees");
    static final Set<String> TREE_KEYS_1 = Set.of("aggregation", "baseValue", "classes", "features", "modelType", "postTransform", "trees");
    /** The encoder kinds stripe-json 1.x names (schemas/stripe-json-manifest-1). */
    static final Set<String> ENCODERS_1 = Set.of("fill-missing", "label-encoder", "standard-scaler");
    static final Set<String> LINEAR_MODEL_TYPES = Set.of("linear-regression", "linear-classification");
    static final Set<String> MANIFEST_KEYS = Set.of(
            "checks", "encoders", "formatVersion", "id", "inputs", "metadata", "model", "outputs", "owner", "producer", "tags");
    static final Set<String> TREE_KEYS_2_0 = Set.of("aggregation", "baseValue", "classes", "features", "modelType", "postTransform", "trees");
    static final Set<String> TREE_KEYS_2_1 = union(TREE_KEYS_2_0, Set.of("infinite", "isolation", "leafWidth", "missing"));
    static final Set<String> TREE_KEYS_2_2 = union(TREE_KEYS_2_1, Set.of("accumulate", "divisors", "treeWeights"));
    static final Set<String> LINEAR_KEYS = Set.of("classes", "coefficients", "features", "intercepts", "modelType", "postTransform");
    static final Set<String> COMPOSITE_MODEL_TYPES = Set.of("composite-regression", "composite-classification");
    static final Set<String> COMPOSITE_KEYS = Set.of(
            "calibration", "classes", "combination", "divisor", "final", "isotonicCalibration", "members", "modelType", "passthrough", "targetSteps",
            "weights");
    static final Set<String> TARGET_STEP_KEYS = Set.of("operation", "number");
    static final Set<String> POST_TRANSFORMS = Set.of("none", "logistic", "softmax", "exp", "isolation");

    private final String id;
    private final List<String> inputs;
    private final boolean[] categorical;
    private final List<Encoder> encoders;
    private final Model model;
    private final int[] modelSlots;
    private final int slots;

    private CrossformPackage(String id, List<String> inputs, boolean[] categorical, List<Encoder> encoders, Model model,
            int[] modelSlots, int slots) {
        this.id = id;
        this.inputs = inputs;
        this.categorical = categorical;
        this.encoders = encoders;
        this.model = model;
        this.modelSlots = modelSlots;
        this.slots = slots;
    }

    /** The package id, {@code sha256.<base32>}, recomputed from the content. */
    public String id() {
        return id;
    }

    /** The package's input fields, in order. */
    public List<String> inputs() {
        return inputs;
    }

    public boolean isCategorical(int input) {
        return categorical[input];
    }

    /** How many values a row's score holds. */
    public int outputs() {
        return model.outputs();
    }

    /** How many trees the model has (a leaf per tree is reported). */
    public int trees() {
        return model.treeCount();
    }

    /** One row's score: its values, or its error (and then no values). */
    public static final class Result {
        public final double[] values;
        public final int[] leaves;
        public final String error;

        Result(double[] values, int[] leaves, String error) {
            this.values = values;
            this.leaves = leaves;
            this.error = error;
        }
    }

    /**
     * Scores a row given as field name to value: a number (any {@link Number}; NaN or null is
     * missing) for a numeric field, a String (null missing) for a categorical one.
     */
    public Result score(Map<String, ?> row) {
        double[] nums = new double[inputs.size()];
        String[] strs = new String[inputs.size()];
        for (int i = 0; i < nums.length; i++) {
            Object v = row.get(inputs.get(i));
            nums[i] = Double.NaN;
            if (v == null) continue;
            if (categorical[i]) {
                if (!(v instanceof String)) return new Result(null, null, Encoder.refused(inputs.get(i), "expected a string, found " + Text.shown(v)));
                strs[i] = (String) v;
            } else {
                if (v instanceof Boolean) nums[i] = ((Boolean) v) ? 1.0 : 0.0;
                else if (v instanceof Number) nums[i] = ((Number) v).doubleValue();
                else return new Result(null, null, Encoder.refused(inputs.get(i), "expected a number, found " + Text.shown(v)));
            }
        }
        double[] out = new double[outputs()];
        int[] leaves = new int[trees()];
        String error = score(nums, strs, out, leaves);
        return error == null ? new Result(out, leaves, null) : new Result(null, null, error);
    }

    /**
     * Scores one row given by input position ({@code nums[i]} for a numeric input, NaN missing;
     * {@code strs[i]} for a categorical one, null missing) into {@code out} and {@code leaves}
     * (each tree's leaf as its preorder position; may be null). Returns null, or the row error.
     */
    public String score(double[] nums, String[] strs, double[] out, int[] leaves) {
        double[] num = new double[slots];
        String[] str = new String[slots];
        for (int i = 0; i < inputs.size(); i++) {
            num[i] = categorical[i] ? Double.NaN : nums[i];
            str[i] = categorical[i] ? strs[i] : null;
        }
        for (Encoder e : encoders) {
            String error = e.apply(num, str);
            if (error != null) return error;
        }
        double[] x = new double[modelSlots.length];
        for (int j = 0; j < x.length; j++) x[j] = num[modelSlots[j]];
        return model.scoreOrRefuse(x, out, leaves);
    }

    /**
     * Scores a batch given by column ({@code nums[i]} for a numeric input, {@code strs[i]} for a
     * categorical one; the other of the two may be null): {@code values} gets rows x outputs()
     * values (NaN in error rows), {@code leaves} rows x trees() preorder leaves (-1 in error rows),
     * {@code errors} null or each row's error. The same results as {@link #score} row by row.
     */
    public void scoreBatch(double[][] nums, String[][] strs, int rows, double[] values, int[] leaves, String[] errors) {
        int n = inputs.size();
        double[][] x = new double[rows][];
        boolean[] ok = new boolean[rows];
        double[] num = new double[slots];
        String[] str = new String[slots];
        for (int r = 0; r < rows; r++) {
            java.util.Arrays.fill(num, Double.NaN);
            java.util.Arrays.fill(str, null);
            for (int i = 0; i < n; i++) {
                if (categorical[i]) str[i] = strs[i] == null ? null : strs[i][r];
                else num[i] = nums[i] == null ? Double.NaN : nums[i][r];
            }
            String error = null;
            for (Encoder e : encoders) {
                error = e.apply(num, str);
                if (error != null) break;
            }
            double[] row = new double[modelSlots.length];
            for (int j = 0; j < row.length; j++) row[j] = num[modelSlots[j]];
            if (error == null) error = model.refusal(row);
            errors[r] = error;
            ok[r] = error == null;
            x[r] = row;
        }
        java.util.Arrays.fill(values, Double.NaN);
        java.util.Arrays.fill(leaves, -1);
        model.scoreBatch(x, ok, values, leaves, errors);
        int k = model.outputs();
        int t = model.treeCount();
        for (int r = 0; r < rows; r++) {
            if (ok[r] && errors[r] != null) {  // refused only once scored (a stack's final model)
                java.util.Arrays.fill(values, r * k, r * k + k, Double.NaN);
                java.util.Arrays.fill(leaves, r * t, r * t + t, -1);
            }
        }
    }

    // ------------------------------------------------------------------ reading

    private static Set<String> union(Set<String> a, Set<String> b) {
        java.util.HashSet<String> out = new java.util.HashSet<>(a);
        out.addAll(b);
        return Set.copyOf(out);
    }

    /**
     * Reads a package: a directory is a stripe-json package, a file a protobuf one
     * (docs/formats/protobuf.md), told by its first bytes as crossform's Python reader tells it.
     * Its trees EXPANDED.
     */
    public static CrossformPackage load(Path path) throws PackageException {
        return load(path, Layout.EXPANDED);
    }

    /**
     * How the trees of a loaded package are held. EXPANDED: each tree's nodes in preorder, a
     * node's threshold, feature and right child side by side (17 bytes a node plus 8 per output),
     * the fastest walk. COMPACT: the bonsai file's own encoding (bitsets with their rank
     * directory, dictionary columns), walked in place, about the file's size in memory. The
     * scores and leaves are the same bits in both. A protobuf package has no bonsai encoding to
     * walk: its trees are always EXPANDED.
     */
    public enum Layout { EXPANDED, COMPACT }

    /** Reads a package (as {@link #load(Path)}) with its stripe-json trees held in {@code layout}. */
    public static CrossformPackage load(Path path, Layout layout) throws PackageException {
        if (path.toString().indexOf('\0') < 0 && !PackageFiles.isDirectory(path) && java.nio.file.Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // the one file format: anything else is refused by its magic (ProtobufMagic)
            return ProtobufReader.read(PackageFiles.readFile(path), path.toString());
        }
        return loadDirectory(path, layout);
    }

    private static CrossformPackage loadDirectory(Path directory, Layout layout) throws PackageException {
        PackageFiles files = PackageFiles.open(directory);
        String where = files.where(MANIFEST);
        JsonNode manifest = Json.object(Json.parse(files.read(MANIFEST), where), "MODEL", where);
        String version = Json.text(manifest, "formatVersion", where);
        String[] parts = version.split("\\.", -1);
        if (parts.length != 2 || !parts[0].matches("[0-9]+") || !parts[1].matches("[0-9]+")) {
            throw new PackageException.Malformed(where, "expected formatVersion 'major.minor', found " + Text.shown(version));
        }
        int major = Integer.parseInt(parts[0]);
        if (major != 1 && major != 2) {
            throw new PackageException.FormatVersion(where, "written in stripe-json " + version + "; this reader reads stripe-json 1.x and 2.x");
        }
        int minor = Integer.parseInt(parts[1]);
        if (major == 1 ? minor == 0 : minor <= 2) {
            // a newer minor only adds keys an older reader may ignore (docs/FORMATS.md)
            Json.onlyKeys(manifest, MANIFEST_KEYS, where);
        }
        SchemaRules.manifest(manifest, where);
        List<String> inputs = new ArrayList<>();
        List<JsonNode> inputNodes = Json.array(manifest, "inputs", where);
        boolean[] categorical = new boolean[inputNodes.size()];
        Map<String, Integer> slot = new HashMap<>();
        Map<String, Boolean> kind = new HashMap<>();
        for (int i = 0; i < inputNodes.size(); i++) {
            JsonNode f = inputNodes.get(i);
            String name = Json.text(f, "name", where);
            String type = Json.text(f, "type", where);
            if (!type.equals("numeric") && !type.equals("categorical")) {
                throw new PackageException.Malformed(where, "expected input type 'numeric' or 'categorical', found " + Text.shown(type));
            }
            if (slot.containsKey(name)) {
                throw new PackageException.Malformed(where, "expected distinct input names, found " + Text.shown(name) + " twice");
            }
            inputs.add(name);
            categorical[i] = type.equals("categorical");
            slot.put(name, i);
            kind.put(name, categorical[i]);
        }
        List<Encoder> encoders = new ArrayList<>();
        for (JsonNode step : Json.array(Json.objectField(manifest, "encoders", where), "apply", where)) {
            String type = Json.text(step, "encoderType", where);
            String path = SchemaRules.path(step, "path", where);
            Encoders.Reader reader = Encoders.READERS.get(type);
            if (major == 2 && reader != null) SchemaRules.oneOf(type, SchemaRules.encoderKinds(minor), "an encoder kind stripe-json " + version + " names:", where);
            if (major == 1 && reader != null && !ENCODERS_1.contains(type)) {
                throw new PackageException.Malformed(where, "expected an encoder kind stripe-json " + version + " names " + new java.util.TreeSet<>(ENCODERS_1)
                        + ", found " + Text.shown(type));
            }
            if (reader == null) {
                throw new PackageException.UnsupportedKind(files.where(path), "encoder " + type);
            }
            String at = files.where(path);
            JsonNode doc = Json.object(Json.parse(files.read(path), at), path, at);
            Json.onlyKeys(doc, Encoders.KEYS.get(type), at);
            List<String> features = SchemaRules.names(doc, "features", at);
            List<String> outputs = SchemaRules.names(doc, "outputs", at);
            Encoder encoder = reader.read(doc, features, outputs, at);
            wire(encoder, slot, kind, at);
            encoders.add(encoder);
        }
        JsonNode modelEntry = Json.objectField(manifest, "model", where);
        String modelType = Json.text(modelEntry, "modelType", where);
        String modelPath = SchemaRules.path(modelEntry, "path", where);
        if (major == 1 ? !JSON_TREE_MODEL_TYPES.contains(modelType)
                : !TREE_MODEL_TYPES.contains(modelType) && !LINEAR_MODEL_TYPES.contains(modelType) && !COMPOSITE_MODEL_TYPES.contains(modelType)) {
            throw new PackageException.UnsupportedKind(files.where(modelPath), "model " + modelType);
        }
        if (major == 2) SchemaRules.oneOf(modelType, SchemaRules.modelTypes(minor), "a model type stripe-json " + version + " names:", where);
        String at = files.where(modelPath);
        JsonNode doc = Json.object(Json.parse(files.read(modelPath), at), modelPath, at);
        String found = Json.text(doc, "modelType", at);
        if (!found.equals(modelType)) {
            throw new PackageException.Malformed(at, "expected modelType " + Text.shown(modelType) + " as the manifest says, found " + Text.shown(found));
        }
        Model model = major == 1 ? readJsonTrees(doc, at)
                : COMPOSITE_MODEL_TYPES.contains(modelType) ? readComposite(files, doc, modelType, minor, layout, at) : readMember(files, doc, modelType, minor, layout, at);
        if (manifest.has("outputs")) {
            List<String> written = Json.texts(manifest, "outputs", where);
            List<String> names = OutputNames.of(model);
            if (!written.equals(names)) {
                throw new PackageException.Malformed(where, "expected outputs " + Text.shown(names) + " for this model, found " + Text.shown(written));
            }
        }
        JsonNode ownerNode = manifest.get("owner");
        String owner = ownerNode == null || ownerNode.isNull() ? null : Json.text(manifest, "owner", where);
        List<String> tags = Json.texts(manifest, "tags", where);
        JsonNode metadataNode = Json.objectField(manifest, "metadata", where);
        Map<String, String> metadata = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : Json.entries(metadataNode)) {
            if (!e.getValue().isTextual()) {
                throw new PackageException.Malformed(where, "expected metadata values to be strings, found " + Json.kind(e.getValue()));
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return assemble(inputs, categorical, encoders, model, slot, kind, owner, tags, metadata, Json.text(manifest, "id", where), where, at, "the manifest");
    }

    /**
     * Points an encoder's features at the slots of the inputs or earlier outputs they name (each of
     * the kind the encoder reads) and gives its outputs their slots: shared by every format's reader.
     */
    static void wire(Encoder encoder, Map<String, Integer> slot, Map<String, Boolean> kind, String at) throws PackageException {
        List<String> features = encoder.features;
        List<String> outputs = encoder.outputs;
        encoder.in = new int[features.size()];
        for (int j = 0; j < features.size(); j++) {
            String f = features.get(j);
            Boolean k = kind.get(f);
            if (k == null) {
                throw new PackageException.Malformed(at, "feature " + Text.shown(f) + " is no input and no earlier encoder's output");
            }
            if (k != encoder.categoricalInput(j)) {
                throw new PackageException.Malformed(at, "feature " + Text.shown(f) + ": expected a " + (encoder.categoricalInput(j) ? "categorical" : "numeric")
                        + " feature, found a " + (k ? "categorical" : "numeric") + " one");
            }
            encoder.in[j] = slot.get(f);
        }
        encoder.out = new int[outputs.size()];
        for (int k = 0; k < outputs.size(); k++) {
            String o = outputs.get(k);
            encoder.out[k] = slot.computeIfAbsent(o, name -> slot.size());
            kind.put(o, encoder.categoricalOutput(k));
        }
    }

    /**
     * The package from what a format's reader read: the model's features wired to numeric slots,
     * the id recomputed from the canonical bytes (docs/IDENTITY.md) and checked against the one
     * {@code holder} records. Shared by every format's reader.
     */
    static CrossformPackage assemble(List<String> inputs, boolean[] categorical, List<Encoder> encoders, Model model, Map<String, Integer> slot,
            Map<String, Boolean> kind, String owner, List<String> tags, Map<String, String> metadataIn, String recorded, String where, String at,
            String holder) throws PackageException {
        int[] modelSlots = new int[model.features().size()];
        for (int j = 0; j < modelSlots.length; j++) {
            String f = model.features().get(j);
            Boolean k = kind.get(f);
            if (k == null || k) {
                throw new PackageException.Malformed(at, "model feature " + Text.shown(f) + " is no numeric input or encoder output");
            }
            modelSlots[j] = slot.get(f);
        }
        TreeMap<String, String> metadata = new TreeMap<>(Canonical::byCodePoint);
        metadata.putAll(metadataIn);
        Canonical w = new Canonical();
        w.u32(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            w.text(inputs.get(i));
            w.u8(categorical[i] ? 1 : 0);
        }
        w.u32(encoders.size());
        for (Encoder e : encoders) {
            w.text(e.type);
            w.texts(e.features);
            w.texts(e.outputs);
            e.canonical(w);
        }
        model.canonical(w);
        if (owner == null) {
            w.u8(0);
        } else {
            w.u8(1);
            w.text(owner);
        }
        w.texts(Canonical.sortedByCodePoint(tags).stream().distinct().toList());
        w.u32(metadata.size());
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            w.text(e.getKey());
            w.text(e.getValue());
        }
        String id = w.id();
        if (!recorded.equals(id)) {
            throw new PackageException.IdMismatch(where, "the content hashes to " + id + ", " + holder + " records " + Text.shown(recorded));
        }
        return new CrossformPackage(id, List.copyOf(inputs), categorical, List.copyOf(encoders), model, modelSlots, slot.size());
    }

    /** A tree ensemble or a linear model: the package's model, or a composite's member. */
    private static Model readMember(PackageFiles files, JsonNode doc, String modelType, int minor, Layout layout, String at) throws PackageException {
        boolean trees = TREE_MODEL_TYPES.contains(modelType);
        Json.onlyKeys(doc, !trees ? LINEAR_KEYS : minor == 0 ? TREE_KEYS_2_0 : minor == 1 ? TREE_KEYS_2_1 : TREE_KEYS_2_2, at);
        if (trees) {
            SchemaRules.treeModel(doc, minor, at);
        } else {
            SchemaRules.names(doc, "features", at);
            SchemaRules.classes(doc, 2, at);
        }
        Model model = trees ? readTrees(files, doc, modelType, layout, at) : LinearModel.read(doc, at);
        if (LINEAR_MODEL_TYPES.contains(modelType) && modelType.equals("linear-regression") != (((LinearModel) model).classes == null)) {
            throw new PackageException.Malformed(at, "expected classes exactly in a linear-classification model, found modelType " + Text.shown(modelType));
        }
        return model;
    }

    /** A stripe-json 1.x tree model: the 2.0 keys but modelType simple-json-* and the trees inline. */
    private static Model readJsonTrees(JsonNode doc, String at) throws PackageException {
        Json.onlyKeys(doc, TREE_KEYS_1, at);
        String post = Json.text(doc, "postTransform", at);
        if (!Set.of("none", "logistic", "softmax").contains(post)) {
            throw new PackageException.Malformed(at, "expected postTransform 'none', 'logistic' or 'softmax' in stripe-json 1.x, found " + Text.shown(post));
        }
        String aggregation = Json.text(doc, "aggregation", at);
        if (!aggregation.equals("average") && !aggregation.equals("sum")) {
            throw new PackageException.Malformed(at, "expected aggregation 'average' or 'sum' in stripe-json 1.x, found " + Text.shown(aggregation));
        }
        SchemaRules.classes(doc, 1, at);
        return readTrees(null, doc, Json.text(doc, "modelType", at), Layout.EXPANDED, at);  // 1.x trees are JSON: expanded
    }

    private static Model readComposite(PackageFiles files, JsonNode doc, String modelType, int minor, Layout layout, String where) throws PackageException {
        Json.onlyKeys(doc, COMPOSITE_KEYS, where);
        String combination = Json.text(doc, "combination", where);
        if (!Set.of("average", "vote", "stack", "calibrate", "target").contains(combination)) {
            throw new PackageException.Malformed(where, "expected combination 'average', 'vote', 'stack', 'calibrate' or 'target', found " + Text.shown(combination));
        }
        List<JsonNode> entries = Json.array(doc, "members", where);
        if (entries.isEmpty()) throw new PackageException.Malformed(where, "expected at least one member, found none");
        Model[] members = new Model[entries.size()];
        for (int i = 0; i < members.length; i++) {
            String kind = Json.text(entries.get(i), "modelType", where);
            String path = SchemaRules.path(entries.get(i), "path", where);
            Json.onlyKeys(entries.get(i), Set.of("modelType", "path"), where);
            if (!SchemaRules.MEMBER_TYPES.contains(kind)) {
                throw new PackageException.Malformed(where, "expected members that are trees or linear models, found " + Text.shown(kind));
            }
            String at = files.where(path);
            JsonNode member = Json.object(Json.parse(files.read(path), at), path, at);
            String found = Json.text(member, "modelType", at);
            if (!found.equals(kind)) {
                throw new PackageException.Malformed(at, "expected modelType " + Text.shown(kind) + " as " + where + " says, found " + Text.shown(found));
            }
            members[i] = readMember(files, member, kind, minor, layout, at);
            if (!members[i].features().equals(members[0].features())) {
                throw new PackageException.Malformed(at, "expected the features of the first member, " + members[0].features() + ", found " + members[i].features());
            }
        }
        double[] weights = Json.numbers(doc, "weights", where);
        if (weights.length != members.length) {
            throw new PackageException.Malformed(where, "expected one weight per member (" + members.length + "), found " + weights.length);
        }
        double divisor = Json.finite(doc.get("divisor"), "divisor", where);
        List<JsonNode> classes = doc.has("classes") ? Json.array(doc, "classes", where) : null;
        if (modelType.equals("composite-classification") != (classes != null)) {
            throw new PackageException.Malformed(where, "expected classes exactly in a composite-classification model");
        }
        LinearModel fin = null;
        SchemaRules.classes(doc, 2, where);
        if (doc.has("passthrough") && !doc.get("passthrough").isBoolean()) {
            throw new PackageException.Malformed(where, "expected passthrough to be true or false, found " + Json.kind(doc.get("passthrough")));
        }
        boolean passthrough = doc.has("passthrough") && doc.get("passthrough").booleanValue();
        if (combination.equals("stack") != doc.has("final")) {
            throw new PackageException.Malformed(where, "expected a final model exactly under combination 'stack'");
        }
        if (doc.has("final")) {
            JsonNode entry = Json.objectField(doc, "final", where);
            String path = SchemaRules.path(entry, "path", where);
            Json.onlyKeys(entry, Set.of("modelType", "path"), where);
            String finalType = Json.text(entry, "modelType", where);
            SchemaRules.oneOf(finalType, LINEAR_MODEL_TYPES, "the final model's modelType", where);
            String at = files.where(path);
            JsonNode f = Json.object(Json.parse(files.read(path), at), path, at);
            String found = Json.text(f, "modelType", at);
            if (!found.equals(finalType)) {
                throw new PackageException.Malformed(at, "expected modelType " + Text.shown(finalType) + " as " + where + " says, found " + Text.shown(found));
            }
            Model m = readMember(files, f, finalType, minor, layout, at);
            if (!(m instanceof LinearModel)) throw new PackageException.Malformed(at, "expected a linear final model");
            fin = (LinearModel) m;
        }
        double[][][] calibration = null;
        boolean isotonic = doc.has("isotonicCalibration");
        if (combination.equals("calibrate")) {
            if (isotonic == doc.has("calibration")) {
                throw new PackageException.Malformed(where, "expected one of calibration (sigmoid) and isotonicCalibration");
            }
            JsonNode cal = Json.field(doc, isotonic ? "isotonicCalibration" : "calibration", where);
            if (!cal.isArray() || cal.size() != members.length) {
                throw new PackageException.Malformed(where, "expected calibration per member (" + members.length + "), found " + Json.kind(cal));
            }
            calibration = new double[members.length][][];
            for (int i = 0; i < members.length; i++) {
                JsonNode columns = cal.get(i);
                if (!columns.isArray()) throw new PackageException.Malformed(where, "expected calibration columns, found " + Json.kind(columns));
                calibration[i] = new double[columns.size()][];
                for (int c = 0; c < columns.size(); c++) {
                    JsonNode rows = columns.get(c);
                    if (!rows.isArray()) throw new PackageException.Malformed(where, "expected calibration rows, found " + Json.kind(rows));
                    if (isotonic) {
                        double[] points = new double[rows.size() * 2];
                        for (int p = 0; p < rows.size(); p++) {
                            JsonNode xy = rows.get(p);
                            if (!xy.isArray() || xy.size() != 2) throw new PackageException.Malformed(where, "expected breakpoints [x, y], found " + Json.kind(xy));
                            points[2 * p] = Json.finite(xy.get(0), "x", where);
                            points[2 * p + 1] = Json.finite(xy.get(1), "y", where);
                            if (p > 0 && !(points[2 * p] > points[2 * p - 2])) throw new PackageException.Malformed(where, "expected breakpoints with x strictly rising");
                        }
                        if (points.length == 0) throw new PackageException.Malformed(where, "expected at least one breakpoint");
                        calibration[i][c] = points;
                    } else {
                        if (rows.size() != 2) throw new PackageException.Malformed(where, "expected [a, b], found " + Json.kind(rows));
                        calibration[i][c] = new double[] {Json.finite(rows.get(0), "a", where), Json.finite(rows.get(1), "b", where)};
                    }
                }
            }
        }
        Composite.TargetStep[] steps = readTargetSteps(doc, combination, members, weights, divisor, classes, fin, where);
        return new Composite(combination, members, weights, divisor, classes, fin, passthrough, calibration, isotonic, steps);
    }

    /** A composite's target steps, checked as the IR checks them (docs/SEMANTICS.md notes 22-23). */
    private static Composite.TargetStep[] readTargetSteps(JsonNode doc, String combination, Model[] members, double[] weights, double divisor,
            List<JsonNode> classes, LinearModel fin, String where) throws PackageException {
        List<JsonNode> nodes = doc.has("targetSteps") ? Json.array(doc, "targetSteps", where) : List.of();
        if (doc.has("targetSteps") && nodes.isEmpty()) throw new PackageException.Malformed(where, "expected at least one target step, found none");
        checkTargetSteps(nodes.size(), combination, members, weights, divisor, classes, fin, where);
        Composite.TargetStep[] steps = new Composite.TargetStep[nodes.size()];
        for (int i = 0; i < steps.length; i++) {
            JsonNode step = Json.object(nodes.get(i), "targetSteps[" + i + "]", where);
            Json.onlyKeys(step, TARGET_STEP_KEYS, where);
            String name = Json.text(step, "operation", where);
            Composite.TargetOperation op = Composite.TargetOperation.named(name);
            if (op == null) {
                throw new PackageException.Malformed(where, "expected operation 'add', 'subtract', 'multiply', 'divide', 'exp' or 'expm1', found " + Text.shown(name));
            }
            Double number = step.has("number") ? Json.finite(step.get("number"), "targetSteps[" + i + "].number", where) : null;
            steps[i] = Composite.TargetStep.of(op, number, where);
        }
        return steps;
    }

    /**
     * Where a composite may carry {@code count} target steps, as the IR says (docs/SEMANTICS.md
     * notes 22-23): under 'target' at least one, over one regressor member with weight and divisor
     * 1.0; under 'average' or 'stack' of a regressor, any number; nowhere else. Every format's reader.
     */
    static void checkTargetSteps(int count, String combination, Model[] members, double[] weights, double divisor,
            List<JsonNode> classes, LinearModel fin, String where) throws PackageException {
        if (combination.equals("target")) {
            if (members.length != 1 || classes != null || members[0].outputs() != 1 || Composite.classesOf(members[0]) != null) {
                throw new PackageException.Malformed(where, "expected one regressor member under combination 'target', found " + members.length
                        + " members" + (classes != null ? " and classes" : ""));
            }
            if (weights[0] != 1.0 || divisor != 1.0) {
                throw new PackageException.Malformed(where, "expected weight and divisor 1.0 under combination 'target' (unused), found "
                        + weights[0] + " and " + divisor);
            }
            if (count == 0) throw new PackageException.Malformed(where, "expected target steps under combination 'target', found none");
        } else if (count > 0 && (!(combination.equals("average") || combination.equals("stack")) || classes != null
                || (fin != null && fin.classes != null))) {
            throw new PackageException.Malformed(where, "expected target steps only in a regressor combined by 'target', 'average' or 'stack', found combination "
                    + Text.shown(combination));
        }
    }

    private static DecisionTree[] bonsaiTrees(PackageFiles files, JsonNode doc, int nFeatures, int width, Layout layout, String where) throws PackageException {
        JsonNode treesEntry = Json.objectField(doc, "trees", where);
        String encoding = Json.text(treesEntry, "encoding", where);
        if (!encoding.equals("bonsai")) {
            throw new PackageException.Malformed(where, "expected trees encoding 'bonsai', found " + Text.shown(encoding));
        }
        String path = SchemaRules.path(treesEntry, "path", where);
        Bonsai.Forest forest = Bonsai.read(files.read(path), files.where(path), nFeatures, layout);
        if (forest.width != width) {
            throw new PackageException.Malformed(files.where(path), "expected leaves of " + width + " outputs as " + where + " says, found " + forest.width);
        }
        return forest.trees;
    }

    private static TreeEnsemble readTrees(PackageFiles files, JsonNode doc, String modelType, Layout layout, String where) throws PackageException {
        List<String> features = SchemaRules.names(doc, "features", where);
        String aggregation = Json.text(doc, "aggregation", where);
        if (!aggregation.equals("average") && !aggregation.equals("sum") && !aggregation.equals("weighted-median")) {
            throw new PackageException.Malformed(where, "expected aggregation 'average', 'sum' or 'weighted-median', found " + Text.shown(aggregation));
        }
        String post = Json.text(doc, "postTransform", where);
        if (!POST_TRANSFORMS.contains(post)) {
            throw new PackageException.Malformed(where, "expected postTransform one of " + POST_TRANSFORMS + ", found " + Text.shown(post));
        }
        String accumulate = Json.optionalText(doc, "accumulate", "float64", where);
        if (!accumulate.equals("float64") && !accumulate.equals("float32")) {
            throw new PackageException.Malformed(where, "expected accumulate 'float64' or 'float32', found " + Text.shown(accumulate));
        }
        List<JsonNode> classes = doc.has("classes") ? Json.array(doc, "classes", where) : null;
        if (doc.has("leafWidth") && classes == null) {
            throw new PackageException.Malformed(where, "expected leafWidth only in a classifier (two classes from one score), found leafWidth and no classes");
        }
        int width = doc.has("leafWidth") ? Json.integer(doc.get("leafWidth"), "leafWidth", where) : classes != null ? classes.size() : 1;
        double[] base = doc.has("baseValue") ? Json.numbers(doc, "baseValue", where) : null;
        if (base != null && base.length != width) {
            throw new PackageException.Malformed(where, "expected baseValue of " + width + " values, found " + base.length);
        }
        String missing = Json.optionalText(doc, "missing", "route", where);
        String infinite = Json.optionalText(doc, "infinite", "error", where);
        if (!missing.equals("route") && !missing.equals("error")) {
            throw new PackageException.Malformed(where, "expected missing 'route' or 'error', found " + Text.shown(missing));
        }
        if (!infinite.equals("error") && !infinite.equals("compare")) {
            throw new PackageException.Malformed(where, "expected infinite 'error' or 'compare', found " + Text.shown(infinite));
        }
        double[] divisors = doc.has("divisors") ? Json.numbers(doc, "divisors", where) : new double[0];
        for (double d : divisors) {
            if (!(d > 0)) throw new PackageException.Malformed(where, "expected divisors > 0, found " + d);
        }
        double[] treeWeights = doc.has("treeWeights") ? Json.numbers(doc, "treeWeights", where) : new double[0];
        if (doc.has("treeWeights") != aggregation.equals("weighted-median")) {
            throw new PackageException.Malformed(where, "expected treeWeights exactly under aggregation 'weighted-median'");
        }
        double[] isolation = null;
        if (doc.has("isolation") != post.equals("isolation")) {
            throw new PackageException.Malformed(where, "expected the isolation key exactly with postTransform 'isolation'");
        }
        if (doc.has("isolation")) {
            JsonNode iso = Json.objectField(doc, "isolation", where);
            isolation = new double[] {Json.finite(iso.get("denominator"), "isolation.denominator", where), Json.finite(iso.get("offset"), "isolation.offset", where)};
        }
        // files is null for stripe-json 1.x, whose trees are inline
        DecisionTree[] trees = files == null ? JsonTrees.read(doc.get("trees"), features.size(), width, where) : bonsaiTrees(files, doc, features.size(), width, layout, where);
        if (aggregation.equals("weighted-median")) {
            double total = 0.0;
            for (double t : treeWeights) {
                if (!(t >= 0)) throw new PackageException.Malformed(where, "expected treeWeights >= 0, found " + t);
                total += t;
            }
            if (treeWeights.length != trees.length || !(total > 0) || width != 1 || classes != null || !post.equals("none")) {
                throw new PackageException.Malformed(where, "expected a weighted median of one weight per tree (" + trees.length
                        + "), summing to more than 0, in a regressor of one output without post transform");
            }
        }
        boolean float32 = accumulate.equals("float32");
        if (float32 && (divisors.length > 0 || aggregation.equals("weighted-median") || post.equals("isolation"))) {
            throw new PackageException.UnsupportedKind(where, "float32 accumulation with divisors, a weighted median or isolation scores");
        }
        String expected = (files == null ? "simple-json-" : "simple-bonsai-") + (post.equals("isolation") ? "isolation-forest"
                : (classes != null ? "classification-" : "regression-") + (aggregation.equals("sum") ? "boosted-trees" : "forest"));
        if (!modelType.equals(expected)) {
            throw new PackageException.Malformed(where, "expected modelType " + Text.shown(expected) + " for this model, found " + Text.shown(modelType));
        }
        return new TreeEnsemble(List.copyOf(features), trees, width, aggregation, post, classes, base, missing, infinite, divisors, isolation, treeWeights, float32);
    }
}

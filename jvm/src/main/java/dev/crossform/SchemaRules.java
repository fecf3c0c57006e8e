package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The value checks of stripe-json's JSON Schemas (schemas/) that scoring alone would not make:
 * what a name, a path, an id, a tag may be, which encoder kinds and model types each version's
 * manifest may name, and the values each version's tree model file allows. The Python reader
 * validates against the schemas themselves; this is the same refusal, each a
 * {@link PackageException.Malformed} naming the file and what was expected.
 */
final class SchemaRules {
    private SchemaRules() {}

    /** common-1 path: a plain relative path, no '.' or '..' parts, no backslash. */
    static final Pattern PATH = Pattern.compile("^(?!.*(^|/)\\.{1,2}(/|$))[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$");
    static final Pattern PACKAGE_ID = Pattern.compile("^sha256\\.[A-Z2-7]{52}$");

    private static final Set<String> ENCODERS_2_0 = Set.of("fill-missing", "label-encoder", "standard-scaler");
    private static final Set<String> ENCODERS_2_1 = union(ENCODERS_2_0, Set.of("affine", "missing-indicator", "one-hot", "refuse-missing"));
    private static final Set<String> ENCODERS_2_2 = union(ENCODERS_2_1,
            Set.of("number-category", "binning", "product", "integer-code", "missing-band", "projection"));
    private static final Set<String> MODELS_2_0 = Set.of("simple-bonsai-classification-forest", "simple-bonsai-regression-forest",
            "simple-bonsai-classification-boosted-trees", "simple-bonsai-regression-boosted-trees");
    private static final Set<String> MODELS_2_1 = union(MODELS_2_0, Set.of("simple-bonsai-isolation-forest", "linear-classification", "linear-regression"));
    private static final Set<String> MODELS_2_2 = union(MODELS_2_1, Set.of("composite-classification", "composite-regression"));
    /** A composite's members: trees or linear models, no isolation forest (composite-model-2). */
    static final Set<String> MEMBER_TYPES = union(MODELS_2_0, Set.of("linear-classification", "linear-regression"));

    /** Per minor of 2.x (a newer minor follows the newest schema): aggregations and post transforms a tree model may name. */
    private static final List<Set<String>> AGGREGATIONS = List.of(Set.of("average", "sum"), Set.of("average", "sum"),
            Set.of("average", "sum", "weighted-median"));
    private static final List<Set<String>> POST_TRANSFORMS = List.of(Set.of("none", "logistic", "softmax"),
            Set.of("none", "logistic", "softmax", "isolation"), Set.of("none", "logistic", "softmax", "isolation", "exp"));
    /** A 2.1 and later tree model writes a rule only when it is not the default: the one value each key may hold. */
    private static final Map<String, Object> RULE_VALUES = Map.of("missing", "error", "infinite", "compare", "accumulate", "float32", "leafWidth", 1);

    private static Set<String> union(Set<String> a, Set<String> b) {
        HashSet<String> out = new HashSet<>(a);
        out.addAll(b);
        return Set.copyOf(out);
    }

    private static int schemaMinor(int minor) {
        return Math.min(minor, 2);
    }

    /** The encoder kinds a 2.x manifest of this minor may name. */
    static Set<String> encoderKinds(int minor) {
        return List.of(ENCODERS_2_0, ENCODERS_2_1, ENCODERS_2_2).get(schemaMinor(minor));
    }

    /** The model types a 2.x manifest of this minor may name. */
    static Set<String> modelTypes(int minor) {
        return List.of(MODELS_2_0, MODELS_2_1, MODELS_2_2).get(schemaMinor(minor));
    }

    static void oneOf(String value, Set<String> allowed, String what, String where) throws PackageException {
        if (!allowed.contains(value)) {
            throw new PackageException.Malformed(where, "expected " + what + " one of " + new TreeSet<>(allowed) + ", found " + Text.shown(value));
        }
    }

    /** A plain relative path inside the package (common-1 path). */
    static String path(JsonNode parent, String key, String where) throws PackageException {
        String path = Json.text(parent, key, where);
        if (!PATH.matcher(path).matches()) {
            throw new PackageException.Malformed(where, "expected " + key + " to be a plain relative path (letters, digits, '.', '_', '-' and '/' between parts), found "
                    + Text.shown(path));
        }
        return path;
    }

    /** common-1 names: at least one, each a non-empty string. */
    static List<String> names(JsonNode parent, String key, String where) throws PackageException {
        List<String> names = Json.texts(parent, key, where);
        if (names.isEmpty()) throw new PackageException.Malformed(where, "expected " + key + " to hold at least one name, found none");
        for (String name : names) {
            if (name.isEmpty()) throw new PackageException.Malformed(where, "expected " + key + " to hold non-empty names, found ''");
        }
        return names;
    }

    /** An object whose every value is a string (common-1 stringMap), when present. */
    static void stringMap(JsonNode parent, String key, String where) throws PackageException {
        if (!parent.has(key)) return;
        for (Map.Entry<String, JsonNode> e : Json.entries(Json.objectField(parent, key, where))) {
            if (!e.getValue().isTextual()) {
                throw new PackageException.Malformed(where, "expected " + key + " values to be strings, found " + Json.kind(e.getValue()) + " at " + Text.shown(e.getKey()));
            }
        }
    }

    /** The manifest's values beyond what the reader builds from it (every stripe-json manifest schema). */
    static void manifest(JsonNode manifest, String where) throws PackageException {
        String id = Json.text(manifest, "id", where);
        if (!PACKAGE_ID.matcher(id).matches()) {
            throw new PackageException.Malformed(where, "expected id 'sha256.' and 52 base32 characters, found " + Text.shown(id));
        }
        JsonNode owner = manifest.get("owner");
        if (owner != null && !owner.isNull() && !owner.isTextual()) {
            throw new PackageException.Malformed(where, "expected owner to be a string or null, found " + Json.kind(owner));
        }
        List<String> tags = Json.texts(manifest, "tags", where);
        if (new HashSet<>(tags).size() != tags.size()) throw new PackageException.Malformed(where, "expected distinct tags, found " + Text.shown(tags));
        for (String tag : tags) {
            if (tag.isEmpty()) throw new PackageException.Malformed(where, "expected non-empty tags, found ''");
        }
        stringMap(manifest, "metadata", where);
        stringMap(manifest, "producer", where);
        if (manifest.has("outputs")) Json.texts(manifest, "outputs", where);
        if (manifest.has("checks")) {
            JsonNode checks = Json.objectField(manifest, "checks", where);
            Json.onlyKeys(checks, Set.of("path"), where);
            path(checks, "path", where);
        }
        JsonNode inputs = Json.field(manifest, "inputs", where);
        if (!inputs.isArray() || inputs.isEmpty()) throw new PackageException.Malformed(where, "expected inputs to hold at least one field, found " + Json.kind(inputs));
        for (JsonNode input : inputs) {
            Json.object(input, "inputs", where);
            Json.onlyKeys(input, Set.of("name", "type"), where);
            if (Json.text(input, "name", where).isEmpty()) throw new PackageException.Malformed(where, "expected non-empty input names, found ''");
        }
        JsonNode encoders = Json.objectField(manifest, "encoders", where);
        Json.onlyKeys(encoders, Set.of("apply"), where);
        for (JsonNode step : Json.array(encoders, "apply", where)) {
            Json.object(step, "encoders.apply", where);
            Json.onlyKeys(step, Set.of("encoderType", "path"), where);
        }
        Json.onlyKeys(Json.objectField(manifest, "model", where), Set.of("modelType", "path"), where);
    }

    /** A tree model file's values its version's schema (stripe-json-model-2, -2.1, -2.2) allows. */
    static void treeModel(JsonNode doc, int minor, String where) throws PackageException {
        int m = schemaMinor(minor);
        oneOf(Json.text(doc, "aggregation", where), AGGREGATIONS.get(m), "aggregation", where);
        oneOf(Json.text(doc, "postTransform", where), POST_TRANSFORMS.get(m), "postTransform", where);
        for (Map.Entry<String, Object> rule : RULE_VALUES.entrySet()) {
            JsonNode node = doc.get(rule.getKey());
            if (node == null) continue;
            Object want = rule.getValue();
            boolean ok = want instanceof String ? node.isTextual() && node.textValue().equals(want) : node.isIntegralNumber() && node.intValue() == (Integer) want;
            if (!ok) {
                throw new PackageException.Malformed(where, "expected " + rule.getKey() + " " + (want instanceof String ? "'" + want + "'" : want)
                        + " or no such key (the default is written by leaving it out), found " + Json.kind(node));
            }
        }
        for (String key : List.of("divisors", "treeWeights")) {
            if (doc.has(key) && Json.array(doc, key, where).isEmpty()) throw new PackageException.Malformed(where, "expected " + key + " to hold at least one number, found none");
        }
        if (doc.has("isolation")) {
            JsonNode iso = Json.objectField(doc, "isolation", where);
            Json.onlyKeys(iso, Set.of("denominator", "offset"), where);
            if (!(Json.finite(iso.get("denominator"), "isolation.denominator", where) > 0)) {
                throw new PackageException.Malformed(where, "expected isolation.denominator > 0, found " + iso.get("denominator"));
            }
        }
        JsonNode trees = Json.objectField(doc, "trees", where);
        Json.onlyKeys(trees, Set.of("encoding", "path"), where);
        classes(doc, 1, where);
    }

    /** Class labels, when present: at least {@code least}, each a string, number or boolean. */
    static void classes(JsonNode doc, int least, String where) throws PackageException {
        if (!doc.has("classes")) return;
        List<JsonNode> classes = Json.array(doc, "classes", where);
        if (classes.size() < least) throw new PackageException.Malformed(where, "expected at least " + least + " classes, found " + classes.size());
        for (JsonNode c : classes) {
            if (!c.isTextual() && !c.isNumber() && !c.isBoolean()) {
                throw new PackageException.Malformed(where, "expected class labels to be strings, numbers or booleans, found " + Json.kind(c));
            }
        }
    }
}

package dev.crossform;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Strict JSON for package files: duplicate keys and NaN/Infinity literals refused, parsed into
 * Jackson's tree model only (no object binding, nothing named by the file is loaded). Typed
 * accessors throw {@link PackageException.Malformed} naming the file, the key, what was expected
 * and what was found.
 */
final class Json {
    private static final ObjectMapper MAPPER;

    static {
        JsonFactory factory = new JsonFactory();
        factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        factory.disable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);
        MAPPER = new ObjectMapper(factory);
    }

    private Json() {}

    public static JsonNode parse(byte[] bytes, String where) throws PackageException {
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw new PackageException.BadJson(where, "expected a JSON document, found no content");
            }
            return node;
        } catch (StackOverflowError e) {
            // Jackson 2.14 (Debian 12's) has no nesting limit of its own
            throw new PackageException.BadJson(where, "expected JSON nested a few levels deep, found nesting too deep to read");
        } catch (JsonProcessingException e) {
            throw new PackageException.BadJson(where, "expected valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new PackageException.BadJson(where, "cannot parse: " + e.getMessage());
        }
    }

    public static ObjectNode object(JsonNode node, String key, String where) throws PackageException {
        if (!(node instanceof ObjectNode)) {
            throw new PackageException.Malformed(where, "expected " + key + " to be an object, found " + kind(node));
        }
        return (ObjectNode) node;
    }

    public static JsonNode field(JsonNode parent, String key, String where) throws PackageException {
        JsonNode node = parent.get(key);
        if (node == null) {
            throw new PackageException.Malformed(where, "expected the key '" + key + "', found none");
        }
        return node;
    }

    public static ObjectNode objectField(JsonNode parent, String key, String where) throws PackageException {
        return object(field(parent, key, where), key, where);
    }

    public static String text(JsonNode parent, String key, String where) throws PackageException {
        JsonNode node = field(parent, key, where);
        if (!node.isTextual()) {
            throw new PackageException.Malformed(where, "expected " + key + " to be a string, found " + kind(node));
        }
        return node.textValue();
    }

    public static String optionalText(JsonNode parent, String key, String fallback, String where) throws PackageException {
        return parent.has(key) ? text(parent, key, where) : fallback;
    }

    public static List<JsonNode> array(JsonNode parent, String key, String where) throws PackageException {
        JsonNode node = field(parent, key, where);
        if (!node.isArray()) {
            throw new PackageException.Malformed(where, "expected " + key + " to be an array, found " + kind(node));
        }
        List<JsonNode> out = new ArrayList<>(node.size());
        node.forEach(out::add);
        return out;
    }

    public static List<String> texts(JsonNode parent, String key, String where) throws PackageException {
        List<String> out = new ArrayList<>();
        for (JsonNode item : array(parent, key, where)) {
            if (!item.isTextual()) {
                throw new PackageException.Malformed(where, "expected " + key + " to hold strings, found " + kind(item));
            }
            out.add(item.textValue());
        }
        return out;
    }

    /** A number, or the strings "NaN", "Infinity", "-Infinity" where the format allows them. */
    public static double number(JsonNode node, String key, String where) throws PackageException {
        if (node != null && node.isNumber()) {
            return node.doubleValue();
        }
        if (node != null && node.isTextual()) {
            switch (node.textValue()) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: break;
            }
        }
        throw new PackageException.Malformed(where, "expected " + key + " to be a number, found " + kind(node));
    }

    public static double finite(JsonNode node, String key, String where) throws PackageException {
        if (node == null || !node.isNumber()) {
            throw new PackageException.Malformed(where, "expected " + key + " to be a finite number, found " + kind(node));
        }
        double x = node.doubleValue();
        if (!Double.isFinite(x)) {
            throw new PackageException.Malformed(where, "expected " + key + " to be a finite number, found " + node);
        }
        return x;
    }

    public static double[] numbers(JsonNode parent, String key, String where) throws PackageException {
        List<JsonNode> items = array(parent, key, where);
        double[] out = new double[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = finite(items.get(i), key + "[" + i + "]", where);
        }
        return out;
    }

    public static int integer(JsonNode node, String key, String where) throws PackageException {
        if (node == null || !node.canConvertToInt() || !node.isIntegralNumber()) {
            throw new PackageException.Malformed(where, "expected " + key + " to be an integer, found " + kind(node));
        }
        return node.intValue();
    }

    /** Refuses a key the file's schema does not name (the schemas say additionalProperties: false). */
    public static void onlyKeys(JsonNode object, java.util.Set<String> allowed, String where) throws PackageException {
        Iterator<String> names = object.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw new PackageException.Malformed(where, "unexpected key " + Text.shown(name) + " (expected only " + new java.util.TreeSet<>(allowed) + ")");
            }
        }
    }

    /** An object's entries in file order. */
    public static List<Map.Entry<String, JsonNode>> entries(JsonNode object) {
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = object.fields();
        it.forEachRemaining(out::add);
        return out;
    }

    /** A per-feature object: exactly one entry per feature, in feature order. */
    public static List<JsonNode> perFeature(JsonNode parent, String key, List<String> features, String where) throws PackageException {
        ObjectNode object = objectField(parent, key, where);
        if (object.size() != features.size()) {
            throw new PackageException.Malformed(where, "expected " + key + " to hold one entry per feature (" + features.size() + "), found " + object.size());
        }
        List<JsonNode> out = new ArrayList<>();
        for (String f : features) {
            JsonNode node = object.get(f);
            if (node == null) {
                throw new PackageException.Malformed(where, "expected " + key + " to hold an entry for feature " + Text.shown(f) + ", found none");
            }
            out.add(node);
        }
        return out;
    }

    static String kind(JsonNode node) {
        if (node == null) return "nothing";
        String text = node.toString();
        return node.getNodeType().toString().toLowerCase() + " " + (text.length() > 60 ? text.substring(0, 57) + "..." : text);
    }
}

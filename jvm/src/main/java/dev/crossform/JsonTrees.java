package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/**
 * stripe-json 1.x trees (docs/formats/stripe-json.md, "Version 1.x"): model.json's {@code trees}
 * is a list, per tree the struct-of-arrays {@code feature}, {@code threshold}, {@code left},
 * {@code right}, {@code missingLeft} and {@code value} (nodes x outputs, row by row), node 0 the
 * root, any numbering. A frozen reader: 1.x is read, never written. The structure is checked as
 * the IR's Tree checks it before anything walks it: one tree, every node reachable, no cycle.
 */
final class JsonTrees {
    private JsonTrees() {}

    static final Set<String> TREE_KEYS = Set.of("feature", "threshold", "left", "right", "missingLeft", "value");

    static Tree[] read(JsonNode trees, int nFeatures, int width, String where) throws PackageException {
        if (trees == null || !trees.isArray() || trees.size() == 0) {
            throw new PackageException.Malformed(where, "expected trees to be a list of at least one tree, found " + Json.kind(trees));
        }
        Tree[] out = new Tree[trees.size()];
        for (int t = 0; t < out.length; t++) out[t] = tree(trees.get(t), t, nFeatures, width, where);
        return out;
    }

    private static Tree tree(JsonNode doc, int t, int nFeatures, int width, String where) throws PackageException {
        String at = "tree " + t + ": ";
        if (!doc.isObject()) throw new PackageException.Malformed(where, at + "expected an object, found " + Json.kind(doc));
        Json.onlyKeys(doc, TREE_KEYS, where);
        List<JsonNode> featureNodes = Json.array(doc, "feature", where);
        int n = featureNodes.size();
        if (n == 0) throw new PackageException.Malformed(where, at + "expected at least one node, found none");
        int[] feature = integers(featureNodes, n, at + "feature", where);
        int[] left = integers(Json.array(doc, "left", where), n, at + "left", where);
        int[] right = integers(Json.array(doc, "right", where), n, at + "right", where);
        double[] threshold = numbers(Json.array(doc, "threshold", where), n, at + "threshold", where);
        List<JsonNode> missingNodes = Json.array(doc, "missingLeft", where);
        if (missingNodes.size() != n) throw new PackageException.Malformed(where, at + "expected missingLeft of " + n + " entries, one per node, found " + missingNodes.size());
        boolean[] missingLeft = new boolean[n];
        for (int i = 0; i < n; i++) {
            JsonNode b = missingNodes.get(i);
            if (!b.isBoolean()) throw new PackageException.Malformed(where, at + "expected missingLeft to hold booleans, found " + Json.kind(b));
            missingLeft[i] = b.booleanValue();
        }
        List<JsonNode> valueNodes = Json.array(doc, "value", where);
        if ((long) n * width != valueNodes.size()) {
            throw new PackageException.Malformed(where, at + "expected value to hold " + n + " nodes x " + width + " outputs = " + (long) n * width
                    + " numbers, found " + valueNodes.size());
        }
        double[] value = numbers(valueNodes, valueNodes.size(), at + "value", where);
        int[] parents = new int[n];
        for (int i = 0; i < n; i++) {
            boolean leaf = left[i] < 0;
            if (leaf != (right[i] < 0) || (leaf && (left[i] != -1 || right[i] != -1))) {
                throw new PackageException.Malformed(where, at + "expected left and right both -1 (a leaf) or both child indices, found "
                        + left[i] + " and " + right[i] + " at node " + i);
            }
            if (leaf) {
                if (feature[i] != -1 || threshold[i] != 0.0 || missingLeft[i]) {
                    throw new PackageException.Malformed(where, at + "expected feature -1, threshold 0.0 and missingLeft false at leaf " + i);
                }
                for (int k = 0; k < width; k++) {
                    if (!Double.isFinite(value[i * width + k])) throw new PackageException.Malformed(where, at + "expected finite leaf values at node " + i);
                }
                continue;
            }
            if (left[i] == 0 || right[i] == 0 || left[i] >= n || right[i] >= n) {
                throw new PackageException.Malformed(where, at + "expected child indices in [1, " + n + ") at split " + i + ", found " + left[i] + " and " + right[i]);
            }
            if (feature[i] < 0 || feature[i] >= nFeatures) {
                throw new PackageException.Malformed(where, at + "split " + i + ": feature " + feature[i] + " is not one of the model's " + nFeatures + " features");
            }
            if (Double.isNaN(threshold[i]) || threshold[i] == Double.NEGATIVE_INFINITY) {
                throw new PackageException.Malformed(where, at + "expected a number or +inf as the threshold of split " + i + ", found " + Text.number(threshold[i]));
            }
            for (int k = 0; k < width; k++) {
                if (value[i * width + k] != 0.0) throw new PackageException.Malformed(where, at + "expected value 0.0 at split " + i + " (only leaves carry values)");
            }
            parents[left[i]]++;
            parents[right[i]]++;
        }
        for (int i = 1; i < n; i++) {
            if (parents[i] != 1) throw new PackageException.Malformed(where, at + "expected child links forming one tree, found node " + i + " with " + parents[i] + " parents");
        }
        // each node but the root has one parent and the root none: n - 1 links, so a node the root
        // does not reach would sit on a cycle; a walk from the root counts what it reaches
        int reached = 0;
        int[] stack = new int[n];
        int top = 0;
        stack[top++] = 0;
        while (top > 0 && reached <= n) {
            int node = stack[--top];
            reached++;
            if (left[node] >= 0) {
                if (top + 2 > n) break;
                stack[top++] = right[node];
                stack[top++] = left[node];
            }
        }
        if (reached != n || top != 0) {
            throw new PackageException.Malformed(where, at + "expected child links forming one tree, found nodes the root does not reach");
        }
        return new Tree(feature, threshold, missingLeft, left, right, null, value, width);
    }

    private static int[] integers(List<JsonNode> nodes, int n, String key, String where) throws PackageException {
        if (nodes.size() != n) throw new PackageException.Malformed(where, "expected " + key + " of " + n + " entries, one per node, found " + nodes.size());
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Json.integer(nodes.get(i), key, where);
            if (out[i] < -1) throw new PackageException.Malformed(where, "expected " + key + " entries >= -1, found " + out[i]);
        }
        return out;
    }

    private static double[] numbers(List<JsonNode> nodes, int n, String key, String where) throws PackageException {
        if (nodes.size() != n) throw new PackageException.Malformed(where, "expected " + key + " of " + n + " entries, one per node, found " + nodes.size());
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            JsonNode v = nodes.get(i);
            if (!v.isNumber()) throw new PackageException.Malformed(where, "expected " + key + " to hold numbers, found " + Json.kind(v));
            out[i] = v.doubleValue();
        }
        return out;
    }
}

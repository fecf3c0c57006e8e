package dev.crossform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite's cases (conformance/cases/*.json and the golden 1.0, 2.0 and 2.1 cases,
 * each package as that version wrote it), read and scored by the Java scorer alone: the id the
 * case records (Python's), and scikit-learn's recorded outputs under docs/SEMANTICS.md's rule:
 * the same rows in error, every value within the case's relative tolerance. A package of a kind
 * the scorer does not read yet is counted, never failed.
 */
class ConformanceCasesTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A conformance case: its name, its package directory and its vectors. */
    private record Case(String name, Path pkg, JsonNode vectors, String id) {}

    private static List<Case> cases() throws IOException {
        Path root = Repo.root().resolve("conformance");
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(root.resolve("cases"))) {
            s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
        }
        for (String version : List.of("1.0", "2.0", "2.1")) {
            try (Stream<Path> s = Files.list(root.resolve("golden/stripe-json/" + version + "/cases"))) {
                s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
            }
        }
        List<Case> out = new ArrayList<>();
        for (Path file : files) {
            JsonNode suite = MAPPER.readTree(file.toFile());
            for (JsonNode c : suite.get("cases")) {
                Path packagePath = file.getParent().resolve(c.get("package").asText());
                if (!packagePath.isAbsolute() || !Files.isDirectory(packagePath)) {
                    packagePath = file.getParent().getParent().resolve(c.get("package").asText());
                }
                out.add(new Case(c.get("name").asText(), packagePath, c.get("vectors"), c.get("id").asText()));
            }
        }
        return out;
    }

    @Test
    void everyCaseOfAKindReadScoresAsScikitLearnDid() throws IOException {
        for (CrossformPackage.Layout layout : CrossformPackage.Layout.values()) {
            int scored = 0;
            int unsupported = 0;
            long rows = 0;
            List<String> failures = new ArrayList<>();
            for (Case c : cases()) {
                CrossformPackage pkg;
                try {
                    pkg = CrossformPackage.load(c.pkg(), layout);
                } catch (PackageException.UnsupportedKind e) {
                    unsupported++;
                    continue;
                } catch (PackageException e) {
                    failures.add(c.name() + ": " + e.getMessage());
                    continue;
                }
                if (!pkg.id().equals(c.id())) {
                    failures.add(c.name() + ": the Java reader hashes it to " + pkg.id() + ", the case records " + c.id());
                    continue;
                }
                String problem = compare(pkg, c.vectors());
                if (problem != null) failures.add(c.name() + ": " + problem);
                scored++;
                rows += c.vectors().get("rows").size();
            }
            if (!failures.isEmpty()) {
                fail(layout + ": " + failures.size() + " cases differ:\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
            }
            System.err.println("ConformanceCasesTest " + layout + ": " + scored + " cases scored (" + rows + " rows), " + unsupported + " of kinds not read yet");
            assertTrue(scored >= 90, "expected at least " + 90 + " cases of the kinds read, found " + scored);
        }
    }

    /**
     * The COMPACT layout gives the EXPANDED layout's bits: the same id, the same row errors, every
     * value bit for bit and every tree's preorder leaf, row by row (also without asking the leaves)
     * and in a batch.
     */
    @Test
    void everyCaseScoresTheSameBitsInBothLayouts() throws IOException {
        int compared = 0;
        long leaves = 0;
        List<String> failures = new ArrayList<>();
        for (Case c : cases()) {
            CrossformPackage expanded;
            CrossformPackage compact;
            try {
                expanded = CrossformPackage.load(c.pkg(), CrossformPackage.Layout.EXPANDED);
            } catch (PackageException e) {
                continue;  // the test above counts and judges these
            }
            try {
                compact = CrossformPackage.load(c.pkg(), CrossformPackage.Layout.COMPACT);
            } catch (PackageException e) {
                failures.add(c.name() + ": EXPANDED reads it, COMPACT refuses it: " + e.getMessage());
                continue;
            }
            if (!compact.id().equals(expanded.id())) failures.add(c.name() + ": the layouts hash to " + compact.id() + " and " + expanded.id());
            JsonNode columns = c.vectors().get("columns");
            JsonNode rows = c.vectors().get("rows");
            int n = expanded.inputs().size();
            int m = rows.size();
            double[][] nums = new double[n][m];
            String[][] strs = new String[n][m];
            for (int i = 0; i < n; i++) {
                int at = -1;
                for (int j = 0; j < columns.size(); j++) {
                    if (columns.get(j).get("name").asText().equals(expanded.inputs().get(i))) at = j;
                }
                for (int r = 0; r < m; r++) {
                    JsonNode v = at < 0 ? null : rows.get(r).get(at);
                    nums[i][r] = v != null && v.isNumber() ? v.doubleValue() : v != null && v.isTextual() && v.textValue().endsWith("Infinity")
                            ? (v.textValue().startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY) : Double.NaN;
                    strs[i][r] = v != null && v.isTextual() && expanded.isCategorical(i) ? v.textValue() : null;
                }
            }
            int k = expanded.outputs();
            int t = expanded.trees();
            String problem = null;
            for (int r = 0; r < m && problem == null; r++) {
                double[] one = new double[n];
                String[] oneStr = new String[n];
                for (int i = 0; i < n; i++) {
                    one[i] = nums[i][r];
                    oneStr[i] = strs[i][r];
                }
                double[] outE = new double[k];
                double[] outC = new double[k];
                int[] leavesE = new int[t];
                int[] leavesC = new int[t];
                String errorE = expanded.score(one, oneStr, outE, leavesE);
                String errorC = compact.score(one, oneStr, outC, leavesC);
                problem = differ("row " + r, errorE, errorC, outE, outC, leavesE, leavesC);
                double[] outBare = new double[k];
                String errorBare = compact.score(one, oneStr, outBare, null);  // no leaves asked: COMPACT skips the preorder positions
                if (problem == null) problem = differ("row " + r + " without leaves", errorE, errorBare, outE, outBare, new int[0], new int[0]);
            }
            double[] valuesE = new double[m * k];
            double[] valuesC = new double[m * k];
            int[] leavesE = new int[m * t];
            int[] leavesC = new int[m * t];
            String[] errorsE = new String[m];
            String[] errorsC = new String[m];
            expanded.scoreBatch(nums, strs, m, valuesE, leavesE, errorsE);
            compact.scoreBatch(nums, strs, m, valuesC, leavesC, errorsC);
            for (int r = 0; r < m && problem == null; r++) {
                problem = differ("batch row " + r, errorsE[r], errorsC[r], java.util.Arrays.copyOfRange(valuesE, r * k, r * k + k),
                        java.util.Arrays.copyOfRange(valuesC, r * k, r * k + k), java.util.Arrays.copyOfRange(leavesE, r * t, r * t + t),
                        java.util.Arrays.copyOfRange(leavesC, r * t, r * t + t));
            }
            if (problem != null) failures.add(c.name() + ": " + problem);
            compared++;
            leaves += (long) m * t;
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " cases differ between the layouts:\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
        System.err.println("ConformanceCasesTest layouts: " + compared + " cases, " + leaves + " row leaves, the same bits in COMPACT as in EXPANDED");
        assertTrue(compared >= 90, "expected at least 90 cases compared, found " + compared);
    }

    private static String differ(String row, String errorE, String errorC, double[] outE, double[] outC, int[] leavesE, int[] leavesC) {
        if (!java.util.Objects.equals(errorE, errorC)) return row + ": EXPANDED gives error " + errorE + ", COMPACT " + errorC;
        if (errorE != null) return null;
        for (int k = 0; k < outE.length; k++) {
            if (Double.doubleToRawLongBits(outE[k]) != Double.doubleToRawLongBits(outC[k])) {
                return row + " output " + k + ": EXPANDED gives " + outE[k] + ", COMPACT " + outC[k];
            }
        }
        for (int t = 0; t < leavesE.length; t++) {
            if (leavesE[t] != leavesC[t]) return row + " tree " + t + ": EXPANDED reaches leaf " + leavesE[t] + ", COMPACT " + leavesC[t];
        }
        return null;
    }

    /**
     * The golden protobuf packages (conformance/golden/protobuf/1.0 and 1.1, files written by
     * crossform 0.2.0 on and kept byte for byte): each read, its id the one its case records, and
     * scored as scikit-learn did.
     */
    @Test
    void goldenProtobufPackagesReadAndScoreAsScikitLearnDid() throws IOException {
        Path root = Repo.root().resolve("conformance/golden/protobuf");
        int scored = 0;
        List<String> failures = new ArrayList<>();
        for (String version : List.of("1.0", "1.1")) {
            List<Path> files = new ArrayList<>();
            try (Stream<Path> s = Files.list(root.resolve(version + "/cases"))) {
                s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
            }
            for (Path file : files) {
                for (JsonNode c : MAPPER.readTree(file.toFile()).get("cases")) {
                    Path packagePath = file.getParent().getParent().resolve(c.get("package").asText());
                    String name = version + "/" + c.get("name").asText();
                    try {
                        CrossformPackage pkg = CrossformPackage.load(packagePath);
                        if (!pkg.id().equals(c.get("id").asText())) failures.add(name + ": read as " + pkg.id() + ", the case records " + c.get("id").asText());
                        String problem = compare(pkg, c.get("vectors"));
                        if (problem != null) failures.add(name + ": " + problem);
                        scored++;
                    } catch (PackageException e) {
                        failures.add(name + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
                    }
                }
            }
        }
        if (!failures.isEmpty()) fail(failures.size() + " golden protobuf packages differ:\n" + String.join("\n", failures));
        System.err.println("ConformanceCasesTest: " + scored + " golden protobuf packages scored");
        assertTrue(scored >= 10, "expected the golden protobuf packages, found " + scored);
    }

    private static String compare(CrossformPackage pkg, JsonNode vectors) {
        JsonNode columns = vectors.get("columns");
        double relative = vectors.get("tolerance").has("relative") ? vectors.get("tolerance").get("relative").asDouble() : 1e-12;
        double absolute = vectors.get("tolerance").has("absolute") ? vectors.get("tolerance").get("absolute").asDouble() : 0.0;
        JsonNode expected = vectors.get("expected");
        int n = pkg.inputs().size();
        int[] at = new int[n];
        for (int i = 0; i < n; i++) {
            at[i] = -1;
            for (int j = 0; j < columns.size(); j++) {
                if (columns.get(j).get("name").asText().equals(pkg.inputs().get(i))) at[i] = j;
            }
        }
        assertEquals(pkg.outputs(), expected.get("outputs").size());
        JsonNode rows = vectors.get("rows");
        int m = rows.size();
        double[][] batchNums = new double[n][m];
        String[][] batchStrs = new String[n][m];
        double[] batchValues = new double[m * pkg.outputs()];
        int[] batchLeaves = new int[m * pkg.trees()];
        String[] batchErrors = new String[m];
        boolean[] typeErrors = new boolean[m];
        java.util.List<double[]> rowValues = new ArrayList<>();
        java.util.List<int[]> rowLeaves = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            double[] nums = new double[n];
            String[] strs = new String[n];
            String typeError = null;
            for (int i = 0; i < n; i++) {
                JsonNode v = at[i] < 0 ? null : rows.get(r).get(at[i]);
                nums[i] = Double.NaN;
                if (v == null || v.isNull()) continue;
                if (pkg.isCategorical(i)) {
                    if (v.isTextual()) strs[i] = v.textValue(); else typeError = "not a string";
                } else if (v.isNumber()) {
                    nums[i] = v.doubleValue();
                } else if (v.isBoolean()) {
                    nums[i] = v.booleanValue() ? 1.0 : 0.0;
                } else if (v.isTextual() && v.textValue().equals("NaN")) {
                    nums[i] = Double.NaN;
                } else if (v.isTextual() && v.textValue().equals("Infinity")) {
                    nums[i] = Double.POSITIVE_INFINITY;
                } else if (v.isTextual() && v.textValue().equals("-Infinity")) {
                    nums[i] = Double.NEGATIVE_INFINITY;
                } else {
                    typeError = "not a number";
                }
            }
            for (int i = 0; i < n; i++) {
                batchNums[i][r] = nums[i];
                batchStrs[i][r] = strs[i];
            }
            typeErrors[r] = typeError != null;
            double[] out = new double[pkg.outputs()];
            int[] leaves = new int[pkg.trees()];
            String error = typeError != null ? typeError : pkg.score(nums, strs, out, leaves);
            rowValues.add(error == null ? out : null);
            rowLeaves.add(error == null ? leaves : null);
            JsonNode want = expected.get("values").get(r);
            if (want.isNull() != (error != null)) {
                return "row " + r + ": expected " + (want.isNull() ? "a row error" : want) + ", found " + (error != null ? error : java.util.Arrays.toString(out));
            }
            if (error != null) continue;
            for (int k = 0; k < out.length; k++) {
                double e = want.get(k).doubleValue();
                if (!(Math.abs(out[k] - e) <= Math.max(relative * Math.abs(e), absolute))) {
                    return "row " + r + " output " + k + ": expected " + e + ", found " + out[k];
                }
            }
        }
        // the batch path (trees over all rows, as the jvm runtime's Serve scores) gives the same bits
        pkg.scoreBatch(batchNums, batchStrs, m, batchValues, batchLeaves, batchErrors);
        for (int r = 0; r < m; r++) {
            if (typeErrors[r]) continue;
            double[] one = rowValues.get(r);
            if ((one == null) != (batchErrors[r] != null)) return "row " + r + ": the batch and the row disagree on the error";
            if (one == null) continue;
            for (int k = 0; k < one.length; k++) {
                if (Double.doubleToRawLongBits(one[k]) != Double.doubleToRawLongBits(batchValues[r * one.length + k])) {
                    return "row " + r + " output " + k + ": the batch gives " + batchValues[r * one.length + k] + ", the row " + one[k];
                }
            }
            for (int t = 0; t < pkg.trees(); t++) {
                if (rowLeaves.get(r)[t] != batchLeaves[r * pkg.trees() + t]) return "row " + r + " tree " + t + ": the batch reaches another leaf";
            }
        }
        return null;
    }
}

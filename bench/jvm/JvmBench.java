import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crossform.CrossformPackage;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JVM rows of bench/bench_jvm.py, all measured in this one JVM on the same rows: crossform's
 * scorer in each layout the jar has, and JPMML-Evaluator (a bench-time anchor, never a dependency
 * of jvm/) on each PMML file it is given.
 *
 * <pre>
 * java -cp BENCH_CLASSES:CROSSFORM_JAR:DEPS[:JPMML_JARS] JvmBench CONFIG.json OUT.json
 * </pre>
 * CONFIG names the rows (little-endian float64, rows x features), scikit-learn's predict_proba
 * on them (rows x outputs), the crossform package directory and the PMML files with their
 * probability output names. Each scorer's outputs are compared with scikit-learn's before its
 * figures count: crossform's bit for bit, JPMML's within the relative tolerance of crossform's
 * checks (what the jpmml runtime is held to). A scorer that cannot run is a skip with its reason.
 */
public final class JvmBench {
    /** A scorer under measurement: one row through the caller's API, and all rows. */
    interface Scorer extends AutoCloseable {
        /** One row as a JVM caller hands it: field name to value. Returns the row's outputs. */
        double[] one(Map<String, Object> row) throws Exception;

        /** All rows, as this scorer's users score many (into rows x outputs). */
        void all(double[][] columns, List<Map<String, Object>> rows, double[] out) throws Exception;

        @Override
        default void close() {}
    }

    /** Why a row of the table was not measured. */
    static final class Skip extends Exception {
        Skip(String reason) {
            super(reason);
        }
    }

    private final JsonNode config;
    private final int n;
    private final int k;
    private final List<String> features = new ArrayList<>();
    private final double[][] columns;
    private final List<Map<String, Object>> rows = new ArrayList<>();
    private final double[] expected;
    private final double tolerance;

    JvmBench(JsonNode config) throws IOException {
        this.config = config;
        for (JsonNode f : config.get("features")) features.add(f.asText());
        n = config.get("n_rows").asInt();
        k = config.get("outputs").asInt();
        tolerance = config.get("tolerance").asDouble();
        double[] flat = readDoubles(Path.of(config.get("rows").asText()), n * features.size());
        expected = readDoubles(Path.of(config.get("expected").asText()), n * k);
        columns = new double[features.size()][n];
        for (int r = 0; r < n; r++) {
            Map<String, Object> row = new HashMap<>();
            for (int j = 0; j < features.size(); j++) {
                double v = flat[r * features.size() + j];
                columns[j][r] = v;
                row.put(features.get(j), v);
            }
            rows.add(row);
        }
    }

    static double[] readDoubles(Path path, int count) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        if (bytes.length != 8L * count) {
            throw new IOException(path + ": expected " + 8L * count + " bytes, found " + bytes.length);
        }
        double[] out = new double[count];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out);
        return out;
    }

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JvmBench bench = new JvmBench(json.readTree(Path.of(args[0]).toFile()));
        ArrayNode results = json.createArrayNode();
        bench.crossform(results);
        for (JsonNode pmml : bench.config.get("pmml")) bench.jpmml(results, pmml);
        ObjectNode report = json.createObjectNode();
        report.put("java", System.getProperty("java.version"));
        report.put("vm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        report.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        report.set("rows", results);
        json.writerWithDefaultPrettyPrinter().writeValue(Path.of(args[1]).toFile(), report);
    }

    // ---------------------------------------------------------------- crossform

    void crossform(ArrayNode results) {
        Path dir = Path.of(config.get("crossform").asText());
        Class<?> layout = null;
        try {
            layout = Class.forName("dev.crossform.CrossformPackage$Layout");
        } catch (ClassNotFoundException e) {
            // a jar before the compact layout: EXPANDED is what load(Path) gives
        }
        for (String name : List.of("EXPANDED", "COMPACT")) {
            String row = "crossform jvm " + name;
            if (layout == null) {
                if (name.equals("EXPANDED")) {
                    results.add(measure(row, () -> new CrossformScorer(CrossformPackage.load(dir), features, k)));
                } else {
                    results.add(skipped(row, "this crossform jar has no CrossformPackage.Layout (the compact layout is not built into it)"));
                }
                continue;
            }
            final Class<?> layoutClass = layout;
            results.add(measure(row, () -> {
                Object value = enumValue(layoutClass, name);
                Method load = CrossformPackage.class.getMethod("load", Path.class, layoutClass);
                return new CrossformScorer((CrossformPackage) load.invoke(null, dir, value), features, k);
            }));
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static Object enumValue(Class<?> type, String name) throws Skip {
        try {
            return Enum.valueOf((Class) type, name);
        } catch (IllegalArgumentException e) {
            throw new Skip("CrossformPackage.Layout has no " + name);
        }
    }

    /** crossform's Java scorer: score(Map) for one row, scoreBatch over columns for many. */
    static final class CrossformScorer implements Scorer {
        private final CrossformPackage pkg;
        private final int rowsWidth;
        private final int k;

        CrossformScorer(CrossformPackage pkg, List<String> features, int k) throws Skip {
            if (!pkg.inputs().equals(features)) throw new Skip("the package's inputs are " + pkg.inputs() + ", not " + features);
            if (pkg.outputs() != k) throw new Skip("the package scores " + pkg.outputs() + " outputs, scikit-learn " + k);
            this.pkg = pkg;
            this.rowsWidth = features.size();
            this.k = k;
        }

        @Override
        public double[] one(Map<String, Object> row) throws Skip {
            CrossformPackage.Result r = pkg.score(row);
            if (r.error != null) throw new Skip("crossform refused a row: " + r.error);
            return r.values;
        }

        @Override
        public void all(double[][] columns, List<Map<String, Object>> rows, double[] out) throws Skip {
            int n = rows.size();
            String[] errors = new String[n];
            pkg.scoreBatch(columns, new String[rowsWidth][], n, out, new int[n * pkg.trees()], errors);
            for (String e : errors) if (e != null) throw new Skip("crossform refused a row: " + e);
        }
    }

    // ---------------------------------------------------------------- JPMML

    void jpmml(ArrayNode results, JsonNode entry) {
        String row = entry.get("name").asText();
        if (entry.has("skip")) {
            results.add(skipped(row, entry.get("skip").asText()));
            return;
        }
        List<String> outputs = new ArrayList<>();
        for (JsonNode o : entry.get("outputs")) outputs.add(o.asText());
        results.add(measure(row, () -> {
            Class<?> type;
            try {
                type = Class.forName("JpmmlScorer");
            } catch (ClassNotFoundException | LinkageError e) {
                throw new Skip("JPMML-Evaluator's jars are not on the classpath (pip install 'crossform[pmml]')");
            }
            return (Scorer) type.getConstructor(Path.class, List.class).newInstance(Path.of(entry.get("path").asText()), outputs);
        }));
    }

    // ---------------------------------------------------------------- measuring

    interface Loader {
        Scorer load() throws Exception;
    }

    ObjectNode skipped(String row, String reason) {
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("row", row);
        out.put("skip", reason);
        return out;
    }

    ObjectNode measure(String row, Loader loader) {
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("row", row);
        System.gc();
        long start = System.nanoTime();
        try (Scorer scorer = loader.load()) {
            out.put("load_s", (System.nanoTime() - start) / 1e9);
            batch(scorer, out);
            single(scorer, out);
        } catch (Skip e) {
            return skipped(row, e.getMessage());
        } catch (java.lang.reflect.InvocationTargetException e) {
            return skipped(row, e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage());
        } catch (Exception | OutOfMemoryError e) {
            return skipped(row, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        System.err.println("JvmBench: " + row + " " + out);
        return out;
    }

    /** The rows at once, best of up to three runs (one when a run passes slow_s), after a warm-up run. */
    void batch(Scorer scorer, ObjectNode out) throws Exception {
        double slow = config.get("slow_s").asDouble();
        double[] values = new double[n * k];
        long start = System.nanoTime();
        scorer.all(columns, rows, values);  // warm-up: the JIT compiles the scoring loop
        double first = (System.nanoTime() - start) / 1e9;
        double best = first;
        int runs = 1;
        boolean warm = first <= slow;
        for (int i = 0; warm && i < 3; i++) {
            Arrays.fill(values, Double.NaN);
            start = System.nanoTime();
            scorer.all(columns, rows, values);
            double s = (System.nanoTime() - start) / 1e9;
            best = runs == 1 ? s : Math.min(best, s);  // the cold run is never the figure when there are warm ones
            runs++;
            if (s > slow) break;
        }
        out.put("batch_s", best);
        out.put("batch_runs", runs);
        out.put("rows_per_s", n / best);
        compare(values, out);
    }

    /** One row per call, rows in turn, after warm-up calls; p50 and p99 of the calls. */
    void single(Scorer scorer, ObjectNode out) throws Exception {
        int warmCalls = config.get("warm_up_calls").asInt();
        int calls = config.get("single_calls").asInt();
        double budget = config.get("single_budget_s").asDouble();
        long warmNs = (long) (config.get("warm_up_s").asDouble() * 1e9);
        long warmStart = System.nanoTime();
        long deadline = warmStart + (long) (budget * 1e9);
        // warm_up_calls and warm_up_s both: a fast scorer's few thousand calls end before the JIT
        // has compiled its row path, and the compiler threads would then share the measured calls' cores
        for (int i = 0; (i < warmCalls || System.nanoTime() - warmStart < warmNs) && System.nanoTime() < deadline; i++) {
            scorer.one(rows.get(i % n));
        }
        deadline = System.nanoTime() + (long) (budget * 1e9);
        long[] ns = new long[calls];
        int done = 0;
        int wrong = 0;
        double tol = toleranceOf(out);
        for (; done < calls; done++) {
            Map<String, Object> row = rows.get(done % n);
            long start = System.nanoTime();
            double[] got = scorer.one(row);
            ns[done] = System.nanoTime() - start;
            if (!agrees(got, done % n, tol)) wrong++;
            if (done >= 100 && System.nanoTime() > deadline) {
                done++;
                break;
            }
        }
        long[] sorted = Arrays.copyOf(ns, done);
        Arrays.sort(sorted);
        out.put("single_calls", done);
        out.put("p50_us", sorted[(int) Math.floor(0.50 * (done - 1))] / 1e3);
        out.put("p99_us", sorted[(int) Math.floor(0.99 * (done - 1))] / 1e3);
        out.put("single_rows_differing", wrong);
        if (wrong > 0) out.put("checked", false);  // a single-row call that differs fails the row as a batch row does
    }

    private boolean agrees(double[] got, int r, double tol) {
        for (int j = 0; j < k; j++) {
            double want = expected[r * k + j];
            double g = got[j];
            boolean same = Double.doubleToLongBits(g) == Double.doubleToLongBits(want);
            if (!same && !(Math.abs(g - want) <= tol * Math.abs(want))) return false;
        }
        return true;
    }

    private double toleranceOf(ObjectNode out) {
        return out.get("row").asText().startsWith("crossform") ? 0.0 : tolerance;
    }

    /** The batch's outputs against scikit-learn's: bit-equal rows, rows within the tolerance, the largest difference. */
    void compare(double[] values, ObjectNode out) {
        int identical = 0;
        int within = 0;
        double maxDiff = 0;
        double tol = toleranceOf(out);
        for (int r = 0; r < n; r++) {
            boolean same = true;
            boolean near = true;
            for (int j = 0; j < k; j++) {
                double g = values[r * k + j];
                double want = expected[r * k + j];
                if (Double.doubleToLongBits(g) != Double.doubleToLongBits(want)) {
                    same = false;
                    double d = Math.abs(g - want);
                    if (!(d <= tol * Math.abs(want))) near = false;  // NaN is never near
                    maxDiff = Math.max(maxDiff, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
                }
            }
            if (same) identical++;
            if (same || near) within++;
        }
        out.put("rows_identical", identical);
        out.put("rows_within_tolerance", within);
        out.put("tolerance", tol);
        out.put("max_abs_diff", maxDiff);
        out.put("checked", within == n);
    }
}

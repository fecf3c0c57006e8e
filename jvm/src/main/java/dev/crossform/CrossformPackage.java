package dev.crossform;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A crossform package, read from a stripe-json directory ({@link StripeJsonReader}) or a protobuf
 * file ({@link ProtobufReader}), its id recomputed and checked, ready to score rows by
 * docs/SEMANTICS.md. This class is the public API (load, score, scoreBatch, {@link Result},
 * {@link Layout}) and what both readers share: the wiring of encoders to slots and the id.
 *
 * <pre>
 * CrossformPackage pkg = CrossformPackage.load(Path.of("model-dir"));
 * CrossformPackage.Result r = pkg.score(Map.of("age", 42.0, "city", "Paris"));
 * </pre>
 */
public final class CrossformPackage {

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

    /** Whether input {@code input} (a position in {@link #inputs()}) is categorical (a String), else numeric. */
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
     * values (NaN in error rows), {@code leaves} rows x trees() preorder leaves (-1 in error rows;
     * null when the caller has no use for them, which saves a write per row and tree: on the bench
     * forest 3% of a batch's time), {@code errors} null or each row's error. The same results as
     * {@link #score} row by row.
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
        if (leaves != null) java.util.Arrays.fill(leaves, -1);
        model.scoreBatch(x, ok, values, leaves, errors);
        int k = model.outputs();
        int t = model.treeCount();
        for (int r = 0; r < rows; r++) {
            if (ok[r] && errors[r] != null) {  // refused only once scored (a stack's final model)
                java.util.Arrays.fill(values, r * k, r * k + k, Double.NaN);
                if (leaves != null) java.util.Arrays.fill(leaves, r * t, r * t + t, -1);
            }
        }
    }

    // ------------------------------------------------------------------ loading, and what every reader shares

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
        return StripeJsonReader.read(path, layout);
    }

    /**
     * Reads a package (as {@link #load(Path, Layout)}); with {@code shareAcrossThreads} false its
     * rows and batches are scored entirely on the calling thread and no helper thread is ever
     * started for it: for a caller that already runs one scoring thread per core (a Spark
     * executor's task threads), where helpers would only take cores from the other callers. With
     * true, as the other overloads: a large forest's single row and batch are shared with helper
     * threads when the machine has more than one core (jvm/README.md, "One row, more cores"). The
     * same results either way.
     */
    public static CrossformPackage load(Path path, Layout layout, boolean shareAcrossThreads) throws PackageException {
        CrossformPackage shared = load(path, layout);
        if (shareAcrossThreads) return shared;
        return new CrossformPackage(shared.id, shared.inputs, shared.categorical, shared.encoders, shared.model.onCallingThread(), shared.modelSlots,
                shared.slots);
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
}

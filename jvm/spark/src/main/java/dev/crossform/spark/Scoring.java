package dev.crossform.spark;

import dev.crossform.CrossformPackage;
import dev.crossform.PackageException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * crossform's scoring as a Spark transformation that runs in the executors' JVM, with no Python
 * worker: {@link #score} maps each partition through {@link CrossformPackage#scoreBatch} in blocks
 * of rows, on the task's own thread (one scoring thread per executor core, as Spark schedules).
 *
 * <p>What reaches the executors is the package's bytes, broadcast from the driver, never a path
 * or a store's credentials. Each executor JVM writes them to a private temporary folder once,
 * reads them with crossform's Java reader (which recomputes the id) and checks the id against
 * the one resolved on the driver before any row is scored; the package is then shared by every
 * task of that JVM ({@link #LOADED}).
 *
 * <p>Input values are read as crossform reads a table's columns (docs/spark.md): a numeric
 * input from any numeric or boolean column (null and NaN missing); a categorical input from a
 * string column (null missing); any other type is a row error naming the value. With CSV cells,
 * string columns hold cells as a CSV file has them and are read by {@code crossform score}'s
 * rules, given by the caller ({@link CsvCells}). The output is the kept columns, one double per
 * output (null in a row in error) and the error column (null when the row scored).
 */
public final class Scoring {
    /** Rows handed to {@link CrossformPackage#scoreBatch} at a time. */
    static final int BLOCK_ROWS = 4096;

    /** id and format -> the package read on this JVM: each executor JVM reads a broadcast once. */
    private static final ConcurrentHashMap<String, CrossformPackage> LOADED = new ConcurrentHashMap<>();

    /** id and format -> how many times this JVM read it (the tests check it stays 1). */
    private static final ConcurrentHashMap<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();

    private Scoring() {}

    /**
     * {@code df} scored with the package whose verified bytes are {@code content} (a protobuf
     * file's bytes, or a stripe-json folder's files as relative path to bytes) and whose id is
     * {@code id}. {@code keep} names the columns copied to the output, {@code outputs} the
     * package's outputs (their columns, in order), {@code errorColumn} the error column, whose
     * metadata gets {@code metadataJson} (a JSON object). {@code csv} is null, or the rules for
     * string columns holding CSV cells.
     */
    public static Dataset<Row> score(Dataset<Row> df, Object content, String id, String format, List<String> keep, List<String> outputs,
            String errorColumn, String metadataJson, CsvCells csv) throws PackageException, IOException {
        CrossformPackage pkg = checked(content, id, format, outputs);
        List<String> inputs = pkg.inputs();
        StructType schema = df.schema();
        int[] inputColumn = new int[inputs.size()];
        byte[] reading = new byte[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            inputColumn[i] = schema.fieldIndex(inputs.get(i));
            reading[i] = Reading.of(schema.fields()[inputColumn[i]].dataType(), pkg.isCategorical(i), csv != null);
        }
        int[] keepColumn = new int[keep.size()];
        List<StructField> fields = new ArrayList<>();
        for (int j = 0; j < keep.size(); j++) {
            keepColumn[j] = schema.fieldIndex(keep.get(j));
            fields.add(schema.fields()[keepColumn[j]]);
        }
        fields.addAll(scoreFields(outputs, errorColumn));
        StructType out = DataTypes.createStructType(fields);
        Broadcast<Object> shipped = broadcast(df.sparkSession(), content);
        Partitions partitions = new Partitions(shipped, id, format, inputs, inputColumn, reading, keepColumn, outputs.size(), csv);
        // the row encoder's schema carries no column metadata: the record is set on the result
        return df.mapPartitions(partitions, Encoders.row(out)).withMetadata(errorColumn, Metadata.fromJson(metadataJson));
    }

    /**
     * Registers the package as a SQL function {@code name} of one struct whose fields are named as
     * the package's inputs (other fields are ignored, a missing one is missing in every row):
     * {@code SELECT name(struct(*)) AS scored FROM t}, or {@code name(named_struct('amount', a, ...))}.
     * It returns a struct of the outputs (null in a row in error) and {@code errorColumn}. Values
     * are read as {@link #score} reads typed columns. Each call scores one row (the Java scorer's
     * row path, on the task's thread); {@link #score} scores blocks of rows and is faster on large
     * forests. Returns the function's result type.
     */
    public static StructType register(org.apache.spark.sql.SparkSession spark, String name, Object content, String id, String format,
            List<String> outputs, String errorColumn) throws PackageException, IOException {
        CrossformPackage pkg = checked(content, id, format, outputs);
        StructType result = DataTypes.createStructType(scoreFields(outputs, errorColumn));
        spark.udf().register(name, new RowFunction(broadcast(spark, content), id, format, pkg.inputs()), result);
        return result;
    }

    /** The package of {@code content}, read on the driver as the executors will read it, with {@code outputs} as many as it has. */
    private static CrossformPackage checked(Object content, String id, String format, List<String> outputs) throws PackageException, IOException {
        CrossformPackage pkg = read(content, id, format);
        if (pkg.outputs() != outputs.size()) {
            throw new IllegalArgumentException("crossform: package " + id + " has " + pkg.outputs() + " outputs, the caller named " + outputs);
        }
        return pkg;
    }

    /** A double column per output (null in a row in error), then the error column (null when the row scored). */
    private static List<StructField> scoreFields(List<String> outputs, String errorColumn) {
        List<StructField> fields = new ArrayList<>();
        for (String output : outputs) fields.add(DataTypes.createStructField(output, DataTypes.DoubleType, true));
        fields.add(DataTypes.createStructField(errorColumn, DataTypes.StringType, true));
        return fields;
    }

    /** The verified bytes, sent once to every executor. */
    private static Broadcast<Object> broadcast(org.apache.spark.sql.SparkSession spark, Object content) {
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(content);
    }

    /** The SQL function of {@link #register}: one struct in, one struct of scores out. */
    static final class RowFunction implements UDF1<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<Object> shipped;
        private final String id;
        private final String format;
        private final String[] inputs;

        RowFunction(Broadcast<Object> shipped, String id, String format, List<String> inputs) {
            this.shipped = shipped;
            this.id = id;
            this.format = format;
            this.inputs = inputs.toArray(new String[0]);
        }

        @Override
        public Row call(Row row) {
            CrossformPackage pkg = loaded(shipped.value(), id, format);
            int n = inputs.length;
            double[] nums = new double[n];
            String[] strs = new String[n];
            String error = null;
            StructType schema = row == null ? null : row.schema();
            for (int i = 0; i < n; i++) {
                nums[i] = Double.NaN;
                int c = schema == null ? -1 : schema.getFieldIndex(inputs[i]).getOrElse(() -> -1);
                if (c < 0 || row.isNullAt(c)) continue;
                Object v = row.get(c);
                if (pkg.isCategorical(i)) {
                    if (v instanceof String text) strs[i] = text;
                    else if (error == null) error = wrongType(inputs[i], v, true);
                } else if (v instanceof Boolean b) {
                    nums[i] = b ? 1.0 : 0.0;
                } else if (v instanceof Number number) {
                    nums[i] = number.doubleValue();
                } else if (error == null) {
                    error = wrongType(inputs[i], v, false);
                }
            }
            double[] out = new double[pkg.outputs()];
            if (error == null) error = pkg.score(nums, strs, out, null);
            Object[] result = new Object[out.length + 1];
            if (error == null) {
                for (int o = 0; o < out.length; o++) result[o] = out[o];
            }
            result[out.length] = error;
            return RowFactory.create(result);
        }
    }

    /** The row error of a value crossform does not read for an input, as crossform.rows words it. */
    static String wrongType(String input, Object value, boolean categorical) {
        String what = categorical ? "a string category or missing" : "a number or missing";
        return "feature " + quoted(input) + ": expected " + what + ", got " + shown(value) + " (" + value.getClass().getSimpleName() + ")";
    }

    /** How many times this JVM has read the package {@code id} in {@code format} for scoring. */
    public static int loads(String id, String format) {
        AtomicInteger count = LOADS.get(id + " " + format);
        return count == null ? 0 : count.get();
    }

    /** The package of the broadcast, read once per JVM. */
    static CrossformPackage loaded(Object content, String id, String format) {
        return LOADED.computeIfAbsent(id + " " + format, key -> {
            try {
                CrossformPackage pkg = read(content, id, format);
                LOADS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                return pkg;
            } catch (PackageException e) {
                throw new IllegalStateException("crossform: the package broadcast to this executor does not read: " + e.getMessage(), e);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * Reads {@code content} as crossform's Java reader reads a package on disk (in a private
     * temporary folder, removed after), its trees held as {@link CrossformPackage.Layout#EXPANDED}
     * and scored on the calling thread only; refuses bytes whose id is not {@code id}.
     */
    static CrossformPackage read(Object content, String id, String format) throws PackageException, IOException {
        Path folder = Files.createTempDirectory("crossform-spark-");
        try {
            Path path;
            if (content instanceof byte[]) {
                path = folder.resolve("package.pb");
                Files.write(path, (byte[]) content);
            } else if (content instanceof Map) {
                path = folder.resolve("package");
                for (Map.Entry<?, ?> file : ((Map<?, ?>) content).entrySet()) {
                    Path target = path.resolve(String.valueOf(file.getKey())).normalize();
                    if (!target.startsWith(path) || target.equals(path)) {
                        throw new IllegalArgumentException("crossform: a package file named " + file.getKey() + " would land outside the package folder");
                    }
                    Files.createDirectories(target.getParent());
                    Files.write(target, (byte[]) file.getValue());
                }
            } else {
                throw new IllegalArgumentException("crossform: expected a package's bytes or its files, found " + (content == null ? "null" : content.getClass().getName()));
            }
            CrossformPackage pkg = CrossformPackage.load(path, CrossformPackage.Layout.EXPANDED, false);
            if (!pkg.id().equals(id)) {
                throw new PackageException.IdMismatch(format + " package broadcast for " + id, "the content hashes to " + pkg.id() + ", expected " + id);
            }
            return pkg;
        } finally {
            try (Stream<Path> walk = Files.walk(folder)) {
                for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
            }
        }
    }

    /** How one input's column is read, decided once per job from its Spark type. */
    static final class Reading {
        static final byte NUMBER = 0;  // a numeric input from a numeric or boolean column
        static final byte NUMBER_CELL = 1;  // a numeric input from CSV cells
        static final byte CATEGORY = 2;  // a categorical input from a string column (or CSV cells)
        static final byte WRONG_TYPE = 3;  // any other column: each value that is not null is a row error

        private Reading() {}

        static byte of(DataType type, boolean categorical, boolean cells) {
            if (categorical) return type instanceof StringType ? CATEGORY : WRONG_TYPE;
            if (type instanceof NumericType || type instanceof BooleanType) return NUMBER;  // decimals are numeric types
            if (cells && type instanceof StringType) return NUMBER_CELL;
            return WRONG_TYPE;
        }
    }

    /**
     * The rules of {@code crossform score} for CSV cells (docs/tabular-input.md), as its Python
     * reader defines them ({@code crossform.tabular}: NA_CELLS, TRUE_CELLS, FALSE_CELLS, NUMBER),
     * passed in by the caller so both paths read a cell from one definition.
     */
    public static final class CsvCells implements Serializable {
        private static final long serialVersionUID = 1L;
        private final java.util.Set<String> missing;
        private final java.util.Set<String> trueCells;
        private final java.util.Set<String> falseCells;
        private final String numberPattern;
        private transient Pattern number;

        public CsvCells(List<String> missing, List<String> trueCells, List<String> falseCells, String numberPattern) {
            this.missing = new java.util.HashSet<>(missing);
            this.trueCells = new java.util.HashSet<>(trueCells);
            this.falseCells = new java.util.HashSet<>(falseCells);
            this.numberPattern = numberPattern;
        }

        boolean isMissing(String cell) {
            return missing.contains(cell);
        }

        /** The cell's number, or null when it is text (a row error naming the cell). */
        Double number(String cell) {
            if (trueCells.contains(cell)) return 1.0;
            if (falseCells.contains(cell)) return 0.0;
            if (number == null) number = Pattern.compile(numberPattern, Pattern.CASE_INSENSITIVE);
            if (!number.matcher(cell).matches()) return null;
            String text = cell.strip().toLowerCase(java.util.Locale.ROOT);
            String magnitude = text.startsWith("+") || text.startsWith("-") ? text.substring(1) : text;
            if (magnitude.equals("inf") || magnitude.equals("infinity")) {
                return text.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            }
            return Double.parseDouble(text);  // correctly rounded, as Python's float()
        }
    }

    /** The function each partition runs: the package from the broadcast, then blocks of rows. */
    static final class Partitions implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<Object> shipped;
        private final String id;
        private final String format;
        private final String[] inputs;
        private final int[] inputColumn;
        private final byte[] reading;
        private final int[] keepColumn;
        private final int outputs;
        private final CsvCells csv;

        Partitions(Broadcast<Object> shipped, String id, String format, List<String> inputs, int[] inputColumn, byte[] reading, int[] keepColumn,
                int outputs, CsvCells csv) {
            this.shipped = shipped;
            this.id = id;
            this.format = format;
            this.inputs = inputs.toArray(new String[0]);
            this.inputColumn = inputColumn;
            this.reading = reading;
            this.keepColumn = keepColumn;
            this.outputs = outputs;
            this.csv = csv;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Blocks(this, loaded(shipped.value(), id, format), rows);
        }
    }

    /** A partition's rows scored a block at a time, handed out one by one. */
    static final class Blocks implements Iterator<Row> {
        private final Partitions job;
        private final CrossformPackage pkg;
        private final Iterator<Row> rows;
        private final Row[] block = new Row[BLOCK_ROWS];
        private final double[][] nums;
        private final String[][] strs;
        private final String[] refused = new String[BLOCK_ROWS];  // a value crossform does not read: the row's error
        private final double[] values;
        private final String[] errors = new String[BLOCK_ROWS];
        private int size;
        private int next;

        Blocks(Partitions job, CrossformPackage pkg, Iterator<Row> rows) {
            this.job = job;
            this.pkg = pkg;
            this.rows = rows;
            int n = job.inputs.length;
            nums = new double[n][];
            strs = new String[n][];
            for (int i = 0; i < n; i++) {
                if (pkg.isCategorical(i)) strs[i] = new String[BLOCK_ROWS];
                else nums[i] = new double[BLOCK_ROWS];
            }
            values = new double[BLOCK_ROWS * pkg.outputs()];
        }

        @Override
        public boolean hasNext() {
            if (next < size) return true;
            if (!rows.hasNext()) return false;
            fill();
            return size > 0;
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            int r = next++;
            Row in = block[r];
            block[r] = null;
            int[] keep = job.keepColumn;
            int k = job.outputs;
            Object[] out = new Object[keep.length + k + 1];
            for (int j = 0; j < keep.length; j++) out[j] = in.get(keep[j]);
            String error = refused[r] != null ? refused[r] : errors[r];
            if (error == null) {
                for (int o = 0; o < k; o++) out[keep.length + o] = values[r * k + o];
            }
            out[keep.length + k] = error;
            return RowFactory.create(out);
        }

        private void fill() {
            size = 0;
            next = 0;
            while (size < BLOCK_ROWS && rows.hasNext()) {
                Row row = rows.next();
                refused[size] = null;
                for (int i = 0; i < job.inputs.length; i++) read(row, i, size);
                block[size++] = row;
            }
            pkg.scoreBatch(nums, strs, size, values, null, errors);  // no leaves: the output has no column for them
        }

        /** Input i of {@code row} into row r of the block's columns; a value crossform does not read refuses the row. */
        private void read(Row row, int i, int r) {
            int c = job.inputColumn[i];
            boolean categorical = strs[i] != null;
            if (categorical) strs[i][r] = null;
            else nums[i][r] = Double.NaN;
            if (row.isNullAt(c)) return;
            switch (job.reading[i]) {
                case Reading.NUMBER -> {
                    Object v = row.get(c);
                    nums[i][r] = v instanceof Boolean b ? (b ? 1.0 : 0.0) : ((Number) v).doubleValue();
                }
                case Reading.CATEGORY -> {
                    String cell = row.getString(c);
                    strs[i][r] = job.csv != null && job.csv.isMissing(cell) ? null : cell;
                }
                case Reading.NUMBER_CELL -> {
                    String cell = row.getString(c);
                    if (job.csv.isMissing(cell)) return;
                    Double v = job.csv.number(cell);
                    if (v == null) refuse(i, r, cell, "str");
                    else nums[i][r] = v;
                }
                default -> refuse(i, r, row.get(c), null);
            }
        }

        private void refuse(int i, int r, Object value, String typeName) {
            if (refused[r] != null) return;  // the first input in error names the row's error, as in crossform.rows
            if (typeName == null) {
                refused[r] = wrongType(job.inputs[i], value, strs[i] != null);
            } else {  // a CSV cell that reads as no number: Python's reader names it a str
                refused[r] = "feature " + quoted(job.inputs[i]) + ": expected a number or missing, got " + shown(value) + " (" + typeName + ")";
            }
        }
    }

    /** A name as Python's repr quotes it (what crossform's messages show). */
    static String quoted(String text) {
        return text.indexOf('\'') >= 0 && text.indexOf('"') < 0 ? "\"" + text + "\"" : "'" + text.replace("'", "\\'") + "'";
    }

    /** A value as crossform's messages show one, cut to 60 characters. */
    static String shown(Object value) {
        String text = value instanceof String s ? quoted(s) : String.valueOf(value);
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }
}

package dev.crossform.cli;

import dev.crossform.CrossformPackage;
import dev.crossform.PackageException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The heap a loaded package retains, and its single-row latency, in one layout:
 * {@code Footprint PACKAGE_DIR EXPANDED|COMPACT [ROWS_FILE]} prints one JSON object.
 *
 * <p>How the heap is measured: the package is loaded once first and held, so the classes, their
 * static state and Jackson's caches are paid before anything is counted. Then three more loads,
 * each held beside the others: after each, the used heap once full collections stop freeing
 * anything (System.gc() until the used heap stops falling, at most 10 times); the growth from
 * the measure before is what that load retains, its file bytes and parse buffers being garbage
 * by then. The median of the three is reported with their spread and the samples. Nothing is
 * dropped between measures: a package dropped by setting the only field that held it to null was
 * seen surviving the next collections here (in the interpreter too) until the following load,
 * which made such a difference read 0; holding all of them leaves no such question. Run it in a
 * fresh JVM with -XX:+UseSerialGC (the bench does): its full collection compacts everything, so
 * the used heap is the live objects; on the bench forest the three samples agree within 4 kB.
 *
 * <p>Latency: ROWS_FILE holds rows of the package's inputs (all numeric) as big-endian f64, row
 * after row. Every row is scored one at a time with its leaves (as Serve answers), twice over to
 * warm the JIT, then once more timed row by row with System.nanoTime: p50 and p99 in
 * nanoseconds. Inside the JVM, so no pipe or Python is in the figure. Then the rows' throughput
 * through scoreBatch, all rows at once as Serve scores a batch (the best of 5 runs after 1.5 s
 * of warm-up): {@code batch_rows_per_s} with the helper threads ({@code -Dcrossform.rowThreads}),
 * {@code batch_one_thread_rows_per_s} loaded with sharing off, every batch on the calling thread
 * (as a Spark task thread scores).
 */
public final class Footprint {
    private static final int REPEATS = 3;
    private static final int WARM_UP_PASSES = 2;
    private static final long WARM_UP_NANOS = 1_500_000_000L;
    /**
     * The package held, in a field: a local set to null may be a dead store the JIT drops, and
     * whether the old package is then a GC root depends on which tier runs the loop.
     */
    private static final CrossformPackage[] held = new CrossformPackage[REPEATS + 1];

    private Footprint() {}

    public static void main(String[] args) throws IOException, PackageException {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: Footprint PACKAGE_DIR EXPANDED|COMPACT [ROWS_FILE]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        CrossformPackage.Layout layout = CrossformPackage.Layout.valueOf(args[1]);
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long[] retained = new long[REPEATS];
        held[0] = CrossformPackage.load(dir, layout);  // pays the classes' static state
        long before = settledUsed(memory);
        for (int i = 1; i <= REPEATS; i++) {
            held[i] = CrossformPackage.load(dir, layout);
            long after = settledUsed(memory);
            retained[i - 1] = after - before;
            before = after;
        }
        CrossformPackage pkg = held[REPEATS];
        long[] sorted = retained.clone();
        Arrays.sort(sorted);
        StringBuilder out = new StringBuilder();
        out.append("{\"layout\": \"").append(layout).append("\", \"retained_bytes\": ").append(sorted[REPEATS / 2])
                .append(", \"retained_samples_bytes\": ").append(Arrays.toString(retained))
                .append(", \"retained_spread_bytes\": ").append(sorted[REPEATS - 1] - sorted[0])
                .append(", \"trees\": ").append(pkg.trees());
        if (args.length == 3) {
            double[][] x = rows(pkg, Files.readAllBytes(Path.of(args[2])));
            long[] nanos = latency(pkg, x);
            out.append(", \"batch_rows_per_s\": ").append(Math.round(batchRate(pkg, x)));
            CrossformPackage alone = CrossformPackage.load(dir, layout, false);
            out.append(", \"batch_one_thread_rows_per_s\": ").append(Math.round(batchRate(alone, x)));
            out.append(", \"latency_rows\": ").append(nanos.length)
                    .append(", \"latency_p50_ns\": ").append(nanos[nanos.length / 2])
                    .append(", \"latency_p99_ns\": ").append(nanos[(int) Math.min(nanos.length - 1, Math.ceil(nanos.length * 0.99) - 1)]);
        }
        System.out.println(out.append("}"));
    }

    /** The used heap once full collections stop freeing anything. */
    private static long settledUsed(MemoryMXBean memory) {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            long now = memory.getHeapMemoryUsage().getUsed();
            if (now >= used) return used;
            used = now;
        }
        return used;
    }

    /** The rows of the file, row after row of every input (all numeric), big-endian f64. */
    private static double[][] rows(CrossformPackage pkg, byte[] data) {
        int n = pkg.inputs().size();
        for (int i = 0; i < n; i++) {
            if (pkg.isCategorical(i)) throw new IllegalArgumentException("Footprint times numeric inputs only; " + pkg.inputs().get(i) + " is categorical");
        }
        int rows = data.length / (8 * n);
        ByteBuffer buffer = ByteBuffer.wrap(data);
        double[][] x = new double[rows][n];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) x[r][i] = buffer.getDouble();
        }
        return x;
    }

    /**
     * Rows per second of scoreBatch over all rows at once (Serve's path: tree by tree over the
     * rows), the best of 5 runs after at least {@link #WARM_UP_NANOS} of warm-up runs, so the
     * JIT has compiled the walk's loops before any run is timed.
     */
    private static double batchRate(CrossformPackage pkg, double[][] x) {
        int rows = x.length;
        int n = pkg.inputs().size();
        double[][] columns = new double[n][rows];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < n; i++) columns[i][r] = x[r][i];
        }
        double[] values = new double[rows * pkg.outputs()];
        int[] leaves = new int[rows * pkg.trees()];
        String[] errors = new String[rows];
        long warmUntil = System.nanoTime() + WARM_UP_NANOS;
        for (int run = 0; run < 2 || System.nanoTime() < warmUntil; run++) pkg.scoreBatch(columns, new String[n][], rows, values, leaves, errors);
        long best = Long.MAX_VALUE;
        for (int run = 0; run < 5; run++) {
            long start = System.nanoTime();
            pkg.scoreBatch(columns, new String[n][], rows, values, leaves, errors);
            best = Math.min(best, System.nanoTime() - start);
        }
        return rows / (best / 1e9);
    }

    /** Each row's scoring time in nanoseconds, sorted. */
    private static long[] latency(CrossformPackage pkg, double[][] x) {
        int n = pkg.inputs().size();
        int rows = x.length;
        String[] strs = new String[n];
        double[] out = new double[pkg.outputs()];
        int[] leaves = new int[pkg.trees()];
        long[] nanos = new long[rows];
        double sink = 0;
        for (int pass = 0; pass <= WARM_UP_PASSES; pass++) {
            for (int r = 0; r < rows; r++) {
                long start = System.nanoTime();
                pkg.score(x[r], strs, out, leaves);
                nanos[r] = System.nanoTime() - start;
                sink += out[0] + leaves[0];
            }
        }
        if (sink == 42.4242) System.err.print("");  // keeps the scores observable
        Arrays.sort(nanos);
        return nanos;
    }
}

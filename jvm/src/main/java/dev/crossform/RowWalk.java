package dev.crossform;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One row's walk of a large forest, and a batch's rows, shared with helper threads, so a single
 * row is answered sooner on an idle machine and a batch uses its cores. A row's trees are dealt
 * out in chunks of {@link #CHUNK}: the calling thread and each helper take the next chunk until
 * none is left. Only the finding of the leaves
 * is shared; the caller then folds the leaf values in tree order as it always does, so the
 * scores are bit for bit the ones a single thread gives.
 *
 * <p>The caller never waits for a helper to start: it walks chunks from the moment it posts the
 * row, and a helper that is asleep, or busy with another caller's row, simply takes no chunk.
 * A chunk a helper took but has not finished when the caller has nothing left to do is waited
 * for briefly, then walked by the caller itself (a helper descheduled on a busy machine never
 * holds a row up). So a row costs at most a little more than walking it alone, and concurrent
 * callers (a server's request threads) each walk their own rows while one of them is helped.
 *
 * <p>A batch of rows is shared the same way in blocks of rows ({@link #scoreRows}): each block
 * is scored whole by the thread that takes it, tree by tree over its rows, into its own rows of
 * the outputs, and the caller returns when every block is done.
 *
 * <p>A helper spins for {@link #SPIN_NANOS} after its last chunk, ready for the next row, then
 * sleeps until a row is posted: that spin is the price of the latency, as in onnxruntime's
 * intra-op thread pool. The system property {@code crossform.rowThreads} sets the threads a row
 * may use, the caller included (default: the available processors, at most 4; 1 starts no
 * helper and walks every row in the caller).
 */
final class RowWalk {
    /**
     * Trees per chunk: enough that the walk of a chunk still overlaps its memory waits (bench
     * forest, 2 threads, a level at a time: 8 trees 37 us, 16 25 us, 50 29 us a row; 8 trees in
     * step, {@link Tree#reachInStep}: 16 and 32 trees both 9.5-14.5 us, within the runs' noise).
     */
    static final int CHUNK = 16;
    /** Forests with fewer trees or nodes are walked by the caller alone: sharing them costs more than it saves. */
    static final int MIN_TREES = 2 * CHUNK;
    static final long MIN_NODES = 100_000;
    /** How long a helper spins, ready, after its last chunk before it sleeps. */
    static final long SPIN_NANOS = 200_000;
    /** The least a caller waits for helpers' chunks before walking them itself. */
    static final long MIN_PATIENCE_NANOS = 20_000;
    /** The fewest rows a block of a shared batch has. */
    static final int MIN_BLOCK = 64;

    /** Finds the leaves of {@code trees[from .. to)} for one row, packed as {@link DecisionTree#reach} packs them, into {@code into[from .. to)}. */
    interface Walk {
        void walk(int from, int to, double[] x, long[] into);
    }

    /** Scores the rows {@code from .. to} of a batch, writing only their parts of the outputs. */
    interface Rows {
        void score(int from, int to);
    }

    /**
     * Work posted to the helpers: {@code chunks} pieces, each taken by one thread ({@link #next}),
     * marked in {@link #done} when finished (the write publishes what it wrote). A piece that
     * throws marks itself done and leaves its exception for the caller, who throws it.
     */
    private abstract static class Job {
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicIntegerArray done;
        volatile Throwable failure;

        Job(int chunks) {
            this.chunks = chunks;
            this.done = new AtomicIntegerArray(chunks);
        }

        abstract void run(int chunk);

        /** Runs pieces until none is left to take; returns the longest piece's nanoseconds (0: it took none). */
        final long take() {
            long longest = 0;
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                long start = System.nanoTime();
                try {
                    run(c);
                } catch (Throwable e) {
                    failure = e;
                }
                done.set(c, 1);
                longest = Math.max(longest, Math.max(1, System.nanoTime() - start));
            }
            return longest;
        }

        final void rethrow() {
            Throwable e = failure;
            if (e instanceof RuntimeException r) throw r;
            if (e instanceof Error r) throw r;
            if (e != null) throw new IllegalStateException(e);
        }
    }

    /**
     * One row: its trees' chunks. Every walker writes into the job's own {@code found}, never
     * into the caller's array: a helper descheduled inside a chunk may finish it after the caller
     * has walked that chunk itself and returned, and its late writes then land where no one reads.
     */
    private static final class RowJob extends Job {
        final Walk walk;
        final int trees;
        final double[] x;
        final long[] found;

        RowJob(Walk walk, int trees, double[] x) {
            super((trees + CHUNK - 1) / CHUNK);
            this.walk = walk;
            this.trees = trees;
            this.x = x;
            this.found = new long[trees];
        }

        @Override
        void run(int c) {
            int from = c * CHUNK;
            walk.walk(from, Math.min(trees, from + CHUNK), x, found);
        }

        /**
         * Into {@code reached}: each chunk's leaves once its walker is done, waiting for helpers
         * at most {@code patience} ns in all; a chunk still unfinished then is walked here.
         */
        void collect(long[] reached, long patience) {
            long deadline = System.nanoTime() + patience;
            for (int c = 0; c < chunks; c++) {
                int from = c * CHUNK;
                int to = Math.min(trees, from + CHUNK);
                while (done.get(c) == 0 && System.nanoTime() < deadline) Thread.onSpinWait();
                if (done.get(c) != 0 && failure == null) {
                    System.arraycopy(found, from, reached, from, to - from);
                } else {
                    walk.walk(from, to, x, reached);  // a helper's exception is met again here, in the caller
                }
            }
        }
    }

    /** A batch: blocks of rows, each scored whole by one thread into its own rows of the outputs. */
    private static final class BatchJob extends Job {
        final Rows rows;
        final int n;
        final int block;

        BatchJob(Rows rows, int n, int block) {
            super((n + block - 1) / block);
            this.rows = rows;
            this.n = n;
            this.block = block;
        }

        @Override
        void run(int c) {
            rows.score(c * block, Math.min(n, (c + 1) * block));
        }

        /** Waits until every block is done (a helper's block writes the caller's outputs, so it is never walked twice). */
        void await() {
            long start = System.nanoTime();
            for (int c = 0; c < chunks; c++) {
                while (done.get(c) == 0) {
                    if (System.nanoTime() - start < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.parkNanos(50_000);
                    }
                }
            }
            rethrow();
        }
    }

    private static final int THREADS = threads();
    private static final Helper[] HELPERS = new Helper[Math.max(0, THREADS - 1)];
    /** The row being shared, or null: one row at a time is helped. */
    private static final AtomicReference<Job> POSTED = new AtomicReference<>();
    /** How many rows and batches were ever posted to the helpers (what a test of a caller that must not share reads). */
    private static final java.util.concurrent.atomic.AtomicLong POSTINGS = new java.util.concurrent.atomic.AtomicLong();

    private RowWalk() {}

    private static int threads() {
        String set = System.getProperty("crossform.rowThreads");
        if (set != null) {
            try {
                return Math.max(1, Integer.parseInt(set.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system property crossform.rowThreads: expected a whole number of threads, found \"" + set + "\"");
            }
        }
        return Math.min(4, Runtime.getRuntime().availableProcessors());
    }

    /** True when sharing these trees' rows is worth it: helpers exist and the forest is large. */
    static boolean worthSharing(DecisionTree[] trees) {
        if (HELPERS.length == 0 || trees.length < MIN_TREES) return false;
        long nodes = 0;
        for (DecisionTree t : trees) nodes += t.nodes();
        return nodes >= MIN_NODES;
    }

    /** The leaves one row reaches in each of {@code trees} trees, as {@code walk} finds them, found with the helpers' help when they are free. */
    static void reach(Walk walk, int trees, double[] x, long[] reached) {
        RowJob job = new RowJob(walk, trees, x);
        if (!POSTED.compareAndSet(null, job)) {  // another caller's work is being helped: walk alone
            walk.walk(0, trees, x, reached);
            return;
        }
        try {
            wake();
            long longest = job.take();
            // a helper inside its last chunk needs about as long as a chunk takes here
            job.collect(reached, Math.max(longest, MIN_PATIENCE_NANOS));
        } finally {
            POSTED.compareAndSet(job, null);
        }
    }

    /**
     * Rows per block of a shared batch: one block per thread. Each block walks every tree over
     * its rows, so each block streams the whole forest through the cache once; more blocks
     * would balance a late helper better but cost more than they save (bench forest, 5,000 rows,
     * 2 threads: 8 blocks 0.98x one thread's rows/s, 2 blocks 1.95x).
     */
    static int block(int n) {
        return Math.max(MIN_BLOCK, (n + THREADS - 1) / THREADS);
    }

    /**
     * Scores rows {@code 0 .. n} through {@code rows}, block by block, the helpers taking blocks
     * when they are free; the caller takes blocks too and returns when all are scored. Batches
     * under two blocks, and batches posted while another caller's work is helped, are scored
     * by the caller alone.
     */
    static void scoreRows(Rows rows, int n) {
        int block = block(n);
        BatchJob job = new BatchJob(rows, n, block);
        if (HELPERS.length == 0 || job.chunks < 2 || !POSTED.compareAndSet(null, job)) {
            rows.score(0, n);
            return;
        }
        try {
            wake();
            job.take();
            job.await();
        } finally {
            POSTED.compareAndSet(job, null);
        }
    }

    /** The threads a row or batch may use, the caller included (1: no helper is ever started). */
    static int threadCount() {
        return THREADS;
    }

    /** How many rows and batches were posted to the helpers since the class was loaded. */
    static long postings() {
        return POSTINGS.get();
    }

    private static synchronized void wake() {
        POSTINGS.incrementAndGet();
        for (int i = 0; i < HELPERS.length; i++) {
            if (HELPERS[i] == null) {
                HELPERS[i] = new Helper(i);
                HELPERS[i].start();
            } else if (HELPERS[i].sleeping) {
                LockSupport.unpark(HELPERS[i]);
            }
        }
    }

    /** A daemon thread that walks chunks of posted rows. */
    private static final class Helper extends Thread {
        volatile boolean sleeping;

        Helper(int i) {
            super("crossform-row-walk-" + (i + 1));
            setDaemon(true);
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                Job job = POSTED.get();
                if (job != null && job.take() > 0) {
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    sleeping = true;  // then look again: a row posted before this is seen here, one after it unparks
                    Job posted = POSTED.get();
                    if (posted == null || posted.next.get() >= posted.chunks) LockSupport.park(this);
                    sleeping = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}

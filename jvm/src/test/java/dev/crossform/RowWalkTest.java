package dev.crossform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A row's walk shared with helper threads finds exactly the leaves one thread finds: on a
 * random forest large enough to be shared (numeric and set splits, NaN routing both ways),
 * from one caller and from several callers at once (one of them helped, the others alone).
 */
class RowWalkTest {
    private static final int FEATURES = 6;

    /** A random tree of {@code splits} splits, numbered breadth-first (the readers accept any numbering), one split in 8 a set split. */
    private static Tree randomTree(Random random, int splits) {
        return RandomTrees.tree(random, splits, FEATURES, Random::nextGaussian, 8, 0.0, 1, false);
    }

    private static Tree[] randomForest(long seed) {
        Random random = new Random(seed);
        Tree[] trees = new Tree[50];
        for (int t = 0; t < trees.length; t++) trees[t] = randomTree(random, 1500 + random.nextInt(1000));
        return trees;
    }

    private static double[] randomRow(Random random) {
        double[] x = new double[FEATURES];
        for (int j = 0; j < FEATURES; j++) {
            int kind = random.nextInt(10);
            x[j] = kind == 0 ? Double.NaN : kind == 1 ? random.nextInt(4) : random.nextGaussian();
        }
        return x;
    }

    /** Each tree walked alone, root to leaf ({@link Tree#reach}): what the shared walk must find. */
    private static long[] alone(Tree[] trees, double[] x) {
        long[] reached = new long[trees.length];
        for (int t = 0; t < trees.length; t++) reached[t] = trees[t].reach(x);
        return reached;
    }

    /** The two walks a forest's rows are shared with: all trees a level at a time (EXPANDED), and tree by tree (as COMPACT is). */
    private static List<RowWalk.Walk> walks(Tree[] trees) {
        return List.of(
                (from, to, x, into) -> Tree.reach(trees, from, to, x, into),
                (from, to, x, into) -> {
                    for (int t = from; t < to; t++) into[t] = trees[t].reach(x);
                });
    }

    @Test
    void aSharedWalkFindsTheLeavesOneThreadFinds() {
        Tree[] trees = randomForest(1);
        assertTrue(RowWalk.worthSharing(trees) || Runtime.getRuntime().availableProcessors() == 1,
                "a forest of 50 trees and over 100,000 nodes is shared wherever there is a second core");
        for (RowWalk.Walk walk : walks(trees)) {
            Random random = new Random(2);
            long[] reached = new long[trees.length];
            for (int r = 0; r < 2000; r++) {
                double[] x = randomRow(random);
                java.util.Arrays.fill(reached, -7);
                RowWalk.reach(walk, trees.length, x, reached);
                assertArrayEquals(alone(trees, x), reached, "row " + r);
            }
        }
    }

    @Test
    void concurrentCallersEachGetTheirOwnRowsLeaves() throws Exception {
        Tree[] trees = randomForest(3);
        RowWalk.Walk walk = walks(trees).get(0);
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Integer>> work = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                long seed = 10 + c;
                work.add(() -> {
                    Random random = new Random(seed);
                    int rows = 0;
                    for (int r = 0; r < 1000; r++) {
                        double[] x = randomRow(random);
                        long[] reached = new long[trees.length];
                        RowWalk.reach(walk, trees.length, x, reached);
                        assertArrayEquals(alone(trees, x), reached, "caller seed " + seed + ", row " + r);
                        rows++;
                    }
                    return rows;
                });
            }
            for (Future<Integer> done : callers.invokeAll(work, 120, TimeUnit.SECONDS)) assertEquals(1000, done.get());
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aSharedBatchScoresEveryRowOnceAsTheRowPathDoes() {
        Tree[] trees = randomForest(5);
        List<String> features = List.of("f0", "f1", "f2", "f3", "f4", "f5");
        TreeEnsemble model = new TreeEnsemble(features, trees, 1, "sum", "logistic", null, new double[] {0.25}, "route", "error",
                new double[0], null, new double[0], false);
        Random random = new Random(6);
        int n = 3001;  // blocks of unequal size
        double[][] x = new double[n][];
        boolean[] ok = new boolean[n];
        for (int r = 0; r < n; r++) {
            x[r] = randomRow(random);
            ok[r] = r % 7 != 3;  // rows refused before scoring are left alone
        }
        double[] out = new double[n * model.outputs()];
        int[] leaves = new int[n * trees.length];
        java.util.Arrays.fill(out, -1.0);
        model.scoreBatch(x, ok, out, leaves, new String[n]);
        double[] rowOut = new double[model.outputs()];
        int[] rowLeaves = new int[trees.length];
        for (int r = 0; r < n; r++) {
            double[] got = java.util.Arrays.copyOfRange(out, r * rowOut.length, (r + 1) * rowOut.length);
            if (!ok[r]) {
                assertEquals(-1.0, got[0], "row " + r + " was refused and is not scored");
                continue;
            }
            model.score(x[r], rowOut, rowLeaves);
            assertArrayEquals(rowOut, got, "row " + r);  // bit for bit: assertArrayEquals on doubles compares exactly
            assertArrayEquals(rowLeaves, java.util.Arrays.copyOfRange(leaves, r * trees.length, (r + 1) * trees.length), "row " + r);
        }
    }

    @Test
    void aBlockThatThrowsFailsTheBatchInTheCaller() {
        // with one thread (one CPU, or -Dcrossform.rowThreads=1) the caller scores every block itself
        org.junit.jupiter.api.Assumptions.assumeTrue(RowWalk.threadCount() > 1, "no helper threads: this JVM may use one thread");
        RuntimeException thrown = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> RowWalk.scoreRows((from, to) -> {
            if (from > 0) throw new IllegalStateException("block from " + from);
        }, 1000));
        assertTrue(thrown.getMessage().startsWith("block from "), thrown.getMessage());
        long[] reached = new long[RowWalk.MIN_TREES];
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> RowWalk.reach((from, to, x, into) -> {
            if (from >= RowWalk.CHUNK) throw new IllegalStateException("chunk from " + from);
        }, RowWalk.MIN_TREES, new double[1], reached));
    }

    @Test
    void aSmallForestIsWalkedByTheCallerAlone() {
        Random random = new Random(4);
        Tree[] few = new Tree[RowWalk.MIN_TREES - 1];
        for (int t = 0; t < few.length; t++) few[t] = randomTree(random, 5000);
        assertTrue(!RowWalk.worthSharing(few), "fewer trees than two chunks are not shared");
        Tree[] small = new Tree[100];
        for (int t = 0; t < small.length; t++) small[t] = randomTree(random, 100);
        assertTrue(!RowWalk.worthSharing(small), "a forest under 100,000 nodes is not shared");
    }
}

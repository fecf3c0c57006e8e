package dev.crossform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A batch of expanded trees ({@link TreeEnsemble#scoreBatch}: blocks of rows, 8 walked in step,
 * the child chosen by arithmetic) gives every row the bits and leaves {@link TreeEnsemble#score}
 * gives it alone: on random forests whose thresholds are often the rows' own values and their
 * neighbours, 0.0 and -0.0, +-inf; rows with NaN, +-inf and -0.0; trees the block walk takes and
 * trees it leaves to the one-row walk (set splits, a leaf threshold of +inf); row counts that
 * are no multiple of the 8 in step or of the block; rows refused before scoring mixed in; with
 * the helper threads off; and with no leaves asked for.
 */
class BlockWalkTest {
    private static final int FEATURES = 5;
    /** Values rows and thresholds are drawn from, so that a row often equals a threshold exactly. */
    private static final double[] COMMON = {0.0, -0.0, 1.0, 0.5, -2.5, 3.0, 1e-300, Double.MIN_VALUE, -Double.MIN_VALUE, 1e300};

    private static double commonValue(Random random) {
        double v = COMMON[random.nextInt(COMMON.length)];
        return switch (random.nextInt(3)) {
            case 0 -> Math.nextUp(v);
            case 1 -> Math.nextDown(v);
            default -> v;
        };
    }

    /**
     * A random tree of {@code splits} splits numbered depth-first with the right subtree first (the
     * readers accept any numbering): split thresholds +-inf now and then, set splits when
     * {@code withSets}, and a leaf threshold of {@code leafThreshold}.
     */
    private static Tree randomTree(Random random, int splits, boolean withSets, double leafThreshold, int width) {
        return RandomTrees.tree(random, splits, FEATURES, BlockWalkTest::splitThreshold, withSets ? 6 : 0, leafThreshold, width, true);
    }

    /** +-inf now and then, often a value the rows hold or its neighbour, else a Gaussian draw. */
    private static double splitThreshold(Random random) {
        int kind = random.nextInt(20);
        return kind == 0 ? Double.POSITIVE_INFINITY : kind == 1 ? Double.NEGATIVE_INFINITY : kind < 12 ? commonValue(random) : random.nextGaussian();
    }

    /** 40 trees: most walked in blocks, every fifth with set splits, every seventh with a leaf threshold of +inf. */
    private static Tree[] randomForest(long seed, int width) {
        Random random = new Random(seed);
        Tree[] trees = new Tree[40];
        for (int t = 0; t < trees.length; t++) {
            double leafThreshold = t % 7 == 3 ? Double.POSITIVE_INFINITY : t % 2 == 0 ? -2.0 : 0.0;
            trees[t] = randomTree(random, 20 + random.nextInt(400), t % 5 == 1, leafThreshold, width);
        }
        return trees;
    }

    private static double[] randomRow(Random random) {
        double[] x = new double[FEATURES];
        for (int j = 0; j < FEATURES; j++) {
            int kind = random.nextInt(40);
            x[j] = kind == 0 ? Double.NaN : kind == 1 ? Double.POSITIVE_INFINITY : kind == 2 ? Double.NEGATIVE_INFINITY
                    : kind < 22 ? commonValue(random) : random.nextGaussian();
        }
        return x;
    }

    /** The two models the forest is scored as: a sum with a base value through the logistic, and an average of two outputs. */
    private static List<TreeEnsemble> models(long seed) {
        List<String> features = List.of("f0", "f1", "f2", "f3", "f4");
        return List.of(
                new TreeEnsemble(features, randomForest(seed, 1), 1, "sum", "logistic", null, new double[] {0.25}, "route", "compare",
                        new double[0], null, new double[0], false),
                new TreeEnsemble(features, randomForest(seed + 1, 2), 2, "average", "none", null, null, "route", "compare",
                        new double[] {3.0}, null, new double[0], false));
    }

    /** Scores {@code n} random rows (every 5th refused before scoring) as one batch and checks each against the row path. */
    private static void batchMatchesRows(TreeEnsemble model, int n, long seed) {
        Random random = new Random(seed);
        double[][] x = new double[n][];
        boolean[] ok = new boolean[n];
        for (int r = 0; r < n; r++) {
            x[r] = randomRow(random);
            ok[r] = r % 5 != 2;
        }
        int k = model.outputs();
        int t = model.treeCount();
        double[] out = new double[n * k];
        int[] leaves = new int[n * t];
        java.util.Arrays.fill(out, -7.0);
        java.util.Arrays.fill(leaves, -7);
        model.scoreBatch(x, ok, out, leaves, new String[n]);
        double[] bare = new double[n * k];  // the same batch asking for no leaves
        java.util.Arrays.fill(bare, -7.0);
        model.scoreBatch(x, ok, bare, null, new String[n]);
        for (int i = 0; i < out.length; i++) {
            assertEquals(Double.doubleToRawLongBits(out[i]), Double.doubleToRawLongBits(bare[i]), n + " rows: value " + i + " with leaves and without");
        }
        double[] rowOut = new double[k];
        int[] rowLeaves = new int[t];
        for (int r = 0; r < n; r++) {
            double[] got = java.util.Arrays.copyOfRange(out, r * k, (r + 1) * k);
            int[] gotLeaves = java.util.Arrays.copyOfRange(leaves, r * t, (r + 1) * t);
            if (!ok[r]) {
                for (int i = 0; i < k; i++) assertEquals(-7.0, got[i], n + " rows: row " + r + " was refused and is not scored");
                for (int i = 0; i < t; i++) assertEquals(-7, gotLeaves[i], n + " rows: row " + r + " was refused and has no leaves");
                continue;
            }
            model.score(x[r], rowOut, rowLeaves);
            for (int i = 0; i < k; i++) {  // bit for bit, -0.0 and NaN included
                assertEquals(Double.doubleToRawLongBits(rowOut[i]), Double.doubleToRawLongBits(got[i]),
                        n + " rows: row " + r + " output " + i + ": " + rowOut[i] + " alone, " + got[i] + " in the batch");
            }
            assertArrayEquals(rowLeaves, gotLeaves, n + " rows: row " + r + " leaves");
        }
    }

    private static final int[] ROW_COUNTS = {1, 2, 7, 8, 9, 63, 64, 65, TreeEnsemble.BLOCK - 1, TreeEnsemble.BLOCK, TreeEnsemble.BLOCK + 1, 3001, 2 * TreeEnsemble.BLOCK + 9};

    @Test
    void theForestsHoldTreesOfBothWalks() {
        for (TreeEnsemble model : models(11)) {
            int blockWalked = 0;
            for (DecisionTree tree : model.trees) blockWalked += ((Tree) tree).blockWalks() ? 1 : 0;
            assertTrue(blockWalked > model.trees.length / 2 && blockWalked < model.trees.length,
                    "expected most trees, not all, walked in blocks; found " + blockWalked + " of " + model.trees.length);
        }
    }

    @Test
    void aBatchGivesEveryRowTheBitsAndLeavesOfItsOwnScore() {
        for (TreeEnsemble model : models(11)) {
            for (int n : ROW_COUNTS) batchMatchesRows(model, n, 100 + n);
        }
    }

    /**
     * One row through trees that are all block-walked, 8 trees in step ({@link Tree#reachInStep}),
     * reaches each tree's own leaf ({@link Tree#reach(double[])}, the rules one node at a time):
     * spans of trees that start and end off the groups of 8, rows with NaN and +-inf (walked a
     * level at a time) and with -0.0.
     */
    @Test
    void oneRowWalkedEightTreesInStepReachesEachTreesOwnLeaf() {
        Random random = new Random(41);
        Tree[] trees = new Tree[21];
        for (int t = 0; t < trees.length; t++) {
            trees[t] = randomTree(random, 20 + random.nextInt(400), false, t % 2 == 0 ? -2.0 : 0.0, 1);
            assertTrue(trees[t].blockWalks(), "tree " + t + " was built to be block-walked");
        }
        long[] reached = new long[trees.length];
        int notFinite = 0;
        for (int r = 0; r < 3000; r++) {
            double[] x = randomRow(random);
            for (double v : x) notFinite += Double.isFinite(v) ? 0 : 1;
            int from = r % 4;
            int to = trees.length - r % 3;
            java.util.Arrays.fill(reached, -7);
            Tree.reachInStep(trees, from, to, x, reached);
            for (int t = 0; t < trees.length; t++) {
                long expected = t >= from && t < to ? trees[t].reach(x) : -7;
                assertEquals(expected, reached[t], "row " + r + " " + java.util.Arrays.toString(x) + ", tree " + t + " of " + from + " .. " + to);
            }
        }
        assertTrue(notFinite > 100, "expected rows with NaN or +-inf among the 3,000; found " + notFinite + " such values");
    }

    @Test
    void aBatchOnTheCallingThreadGivesTheSameBitsAndPostsNothingToTheHelpers() {
        // a forest large enough to be shared wherever there is a second core
        Random random = new Random(21);
        Tree[] big = new Tree[40];
        for (int t = 0; t < big.length; t++) big[t] = randomTree(random, 2000 + random.nextInt(1000), t % 5 == 1, -2.0, 1);
        TreeEnsemble shared = new TreeEnsemble(List.of("f0", "f1", "f2", "f3", "f4"), big, 1, "sum", "none", null, null, "route", "compare",
                new double[0], null, new double[0], false);
        TreeEnsemble alone = shared.onCallingThread();
        long before = RowWalk.postings();
        for (int n : new int[] {1, 65, 3001}) batchMatchesRows(alone, n, 300 + n);
        assertEquals(before, RowWalk.postings(), "a model on the calling thread posted rows or batches to the helpers");
        batchMatchesRows(shared, 3001, 400);
        if (RowWalk.worthSharing(big)) {
            assertTrue(RowWalk.postings() > before, "the shared model's batch of 3,001 rows was expected to be posted to the helpers");
        }
    }

    /** The public switch: every conformance case read with sharing off scores the bits and leaves of the shared load, rows and batch; asking for no leaves, in either layout, the same values and errors. */
    @Test
    void aPackageLoadedWithoutSharingScoresAsTheSharedOne() throws Exception {
        Path cases = Repo.root().resolve("conformance/packages");
        List<Path> packages = new ArrayList<>();
        try (Stream<Path> s = Files.list(cases)) {
            s.filter(Files::isDirectory).sorted().forEach(packages::add);
        }
        assertTrue(!packages.isEmpty(), "no packages under " + cases);
        Random random = new Random(31);
        int compared = 0;
        for (Path dir : packages) {
            CrossformPackage shared;
            try {
                shared = CrossformPackage.load(dir, CrossformPackage.Layout.EXPANDED);
            } catch (PackageException e) {
                continue;  // ConformanceCasesTest judges what is read
            }
            CrossformPackage alone = CrossformPackage.load(dir, CrossformPackage.Layout.EXPANDED, false);
            assertEquals(shared.id(), alone.id());
            int n = shared.inputs().size();
            int rows = 70;
            double[][] nums = new double[n][rows];
            String[][] strs = new String[n][rows];
            for (int i = 0; i < n; i++) {
                for (int r = 0; r < rows; r++) {
                    nums[i][r] = random.nextInt(10) == 0 ? Double.NaN : random.nextGaussian() * 3;
                    strs[i][r] = random.nextInt(10) == 0 ? null : "abc".substring(random.nextInt(3));
                }
            }
            int k = shared.outputs();
            int t = shared.trees();
            double[] valuesShared = new double[rows * k];
            double[] valuesAlone = new double[rows * k];
            int[] leavesShared = new int[rows * t];
            int[] leavesAlone = new int[rows * t];
            String[] errorsShared = new String[rows];
            String[] errorsAlone = new String[rows];
            shared.scoreBatch(nums, strs, rows, valuesShared, leavesShared, errorsShared);
            long before = RowWalk.postings();
            alone.scoreBatch(nums, strs, rows, valuesAlone, leavesAlone, errorsAlone);
            assertEquals(before, RowWalk.postings(), dir + ": a package loaded without sharing posted work to the helpers");
            assertArrayEquals(errorsShared, errorsAlone, dir.toString());
            for (int i = 0; i < valuesShared.length; i++) {
                assertEquals(Double.doubleToRawLongBits(valuesShared[i]), Double.doubleToRawLongBits(valuesAlone[i]), dir + " value " + i);
            }
            assertArrayEquals(leavesShared, leavesAlone, dir.toString());
            for (CrossformPackage.Layout layout : CrossformPackage.Layout.values()) {  // the same batch asking for no leaves
                CrossformPackage bare = CrossformPackage.load(dir, layout, false);
                double[] valuesBare = new double[rows * k];
                String[] errorsBare = new String[rows];
                bare.scoreBatch(nums, strs, rows, valuesBare, null, errorsBare);
                assertArrayEquals(errorsShared, errorsBare, dir + " " + layout + " without leaves");
                for (int i = 0; i < valuesShared.length; i++) {
                    assertEquals(Double.doubleToRawLongBits(valuesShared[i]), Double.doubleToRawLongBits(valuesBare[i]),
                            dir + " " + layout + " value " + i + " without leaves");
                }
            }
            compared++;
        }
        assertTrue(compared >= 100, "expected at least 100 packages compared, found " + compared);
    }
}

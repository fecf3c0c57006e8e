package dev.crossform;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/** Random trees for the walk tests (RowWalkTest, BlockWalkTest), numbered as the readers may number them. */
final class RandomTrees {
    private RandomTrees() {}

    /**
     * A tree of {@code splits} splits over {@code features} inputs: each split's threshold drawn by
     * {@code thresholds}, its missing side at random, and one split in {@code setOdds} a set split
     * (0: none); leaves hold {@code leafThreshold} and {@code width} random values. The children
     * are numbered as they are made, the right one first when {@code rightFirst}.
     */
    static Tree tree(Random random, int splits, int features, ToDoubleFunction<Random> thresholds, int setOdds, double leafThreshold,
            int width, boolean rightFirst) {
        int n = 2 * splits + 1;
        int[] feature = new int[n];
        double[] threshold = new double[n];
        boolean[] missingLeft = new boolean[n];
        int[] left = new int[n];
        int[] right = new int[n];
        double[][] sets = new double[n][];
        java.util.Arrays.fill(feature, -1);
        java.util.Arrays.fill(left, -1);
        java.util.Arrays.fill(right, -1);
        java.util.Arrays.fill(threshold, leafThreshold);
        List<Integer> open = new ArrayList<>(List.of(0));  // leaves that may still split
        int next = 1;
        for (int s = 0; s < splits; s++) {
            int node = open.remove(random.nextInt(open.size()));
            feature[node] = random.nextInt(features);
            threshold[node] = thresholds.applyAsDouble(random);
            missingLeft[node] = random.nextBoolean();
            if (setOdds > 0 && random.nextInt(setOdds) == 0) sets[node] = new double[] {0.0, 1.0, 3.0};
            if (rightFirst) {
                right[node] = next++;
                left[node] = next++;
            } else {
                left[node] = next++;
                right[node] = next++;
            }
            open.add(left[node]);
            open.add(right[node]);
        }
        double[] value = new double[n * width];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < width; k++) value[i * width + k] = feature[i] < 0 ? random.nextDouble() : 0.0;
        }
        return new Tree(feature, threshold, missingLeft, left, right, sets, value, width);
    }
}

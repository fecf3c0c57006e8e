package dev.crossform;

import java.util.List;

/**
 * One encoder step: reads its features from a row's slots (as they were before it ran) and
 * writes its outputs, or refuses the row with a message. Slots hold numbers in {@code num}
 * (NaN: missing) and categories in {@code str} (null: missing); which one a name uses is fixed
 * when the package is read. Features and outputs are numeric unless a kind says otherwise.
 */
abstract class Encoder {
    final String type;
    final List<String> features;
    final List<String> outputs;
    int[] in;
    int[] out;

    Encoder(String type, List<String> features, List<String> outputs) {
        this.type = type;
        this.features = features;
        this.outputs = outputs;
    }

    /** Null, or the row error ("feature 'f': ..."). */
    abstract String apply(double[] num, String[] str);

    /** The encoder's parameters in canonical bytes (after its type, features and outputs). */
    abstract void canonical(Canonical w);

    /** Per feature: true when it is read as a category (the kind it must have). */
    boolean categoricalInput(int j) {
        return false;
    }

    /** Per output: true when it is written as a category. */
    boolean categoricalOutput(int k) {
        return false;
    }

    /**
     * The features' numbers, copied before any output is written: an output may reuse a
     * feature's slot (an encoder that overwrites its feature in place).
     */
    final double[] numbersIn(double[] num) {
        double[] xs = new double[in.length];
        for (int j = 0; j < xs.length; j++) xs[j] = num[in[j]];
        return xs;
    }

    /** The features' categories, copied before any output is written (see {@link #numbersIn}). */
    final String[] textsIn(String[] str) {
        String[] ss = new String[in.length];
        for (int j = 0; j < ss.length; j++) ss[j] = str[in[j]];
        return ss;
    }

    static String refused(String feature, String why) {
        return "feature " + Text.shown(feature) + ": " + why;
    }

    static String notFinite(String feature, double x) {
        return refused(feature, "value " + Text.number(x) + " is not finite");
    }
}

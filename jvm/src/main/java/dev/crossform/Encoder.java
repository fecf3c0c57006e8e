package dev.crossform;

import java.util.List;

/**
 * One encoder step: reads its features from a row's slots (as they were before it ran) and
 * writes its outputs, or refuses the row with a message. Slots hold numbers in {@code num}
 * (NaN: missing) and categories in {@code str} (null: missing); which one a name uses is fixed
 * when the package is read.
 */
public abstract class Encoder {
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
    abstract boolean categoricalInput(int j);

    /** Per output: true when it is written as a category. */
    abstract boolean categoricalOutput(int k);

    static String refused(String feature, String why) {
        return "feature " + Text.shown(feature) + ": " + why;
    }

    static String notFinite(String feature, double x) {
        return refused(feature, "value " + Text.number(x) + " is not finite");
    }
}

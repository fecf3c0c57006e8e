package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A composite model (stripe-json {@code composite-regression} / {@code composite-classification}):
 * members (tree ensembles or linear models) score the same features by their own rules, then
 * the combination joins them (docs/SEMANTICS.md, "Composite models"): average, vote, stack
 * (a final linear model), calibrate (sigmoid or isotonic) or target (one regressor's
 * prediction as it is); a regressor under target, average or stack may end in target steps
 * (TransformedTargetRegressor's inverse, notes 22-23).
 */
final class Composite implements Model {
    final String combination;
    final Model[] members;
    final double[] weights;
    final double divisor;
    final List<JsonNode> classes;
    final LinearModel fin;
    final boolean passthrough;
    /** calibrate: per member, per response column, (a, b) or the isotonic breakpoints' (x, y) rows. */
    final double[][][] calibration;
    final boolean isotonic;
    /** The inverse target steps, in order; empty for none. */
    final TargetStep[] targetSteps;
    final int nOutputs;
    final int nTrees;

    /** A target step's operation: with a number (add, subtract, multiply, divide) or a function of t alone. */
    enum TargetOperation {
        ADD("add", true),
        SUBTRACT("subtract", true),
        MULTIPLY("multiply", true),
        DIVIDE("divide", true),
        EXP("exp", false),
        EXPM1("expm1", false);

        final String written;
        final boolean takesNumber;

        TargetOperation(String written, boolean takesNumber) {
            this.written = written;
            this.takesNumber = takesNumber;
        }

        static TargetOperation named(String written) {
            for (TargetOperation op : values()) if (op.written.equals(written)) return op;
            return null;
        }
    }

    /** One IEEE double operation on the prediction t; {@code number} is NaN for exp and expm1. */
    record TargetStep(TargetOperation operation, double number) {
        /** Checks a step as the IR does: a finite number exactly with the operations that take one, no division by 0. */
        static TargetStep of(TargetOperation operation, Double number, String where) throws PackageException {
            if (operation.takesNumber != (number != null)) {
                throw new PackageException.Malformed(where, "expected a number exactly with add, subtract, multiply and divide, found "
                        + operation.written + (number == null ? " without one" : " with " + Text.number(number)));
            }
            if (number != null && !Double.isFinite(number)) {
                throw new PackageException.Malformed(where, "expected a finite number in target step " + operation.written + ", found " + Text.number(number));
            }
            if (operation == TargetOperation.DIVIDE && number == 0.0) {
                throw new PackageException.Malformed(where, "expected a divisor other than 0 in target step divide, found " + number);
            }
            return new TargetStep(operation, number == null ? Double.NaN : number);
        }

        double apply(double t) {
            return switch (operation) {
                case ADD -> t + number;
                case SUBTRACT -> t - number;
                case MULTIPLY -> t * number;
                case DIVIDE -> t / number;
                case EXP -> Math.exp(t);
                case EXPM1 -> Math.expm1(t);
            };
        }
    }

    Composite(String combination, Model[] members, double[] weights, double divisor, List<JsonNode> classes, LinearModel fin,
            boolean passthrough, double[][][] calibration, boolean isotonic, TargetStep[] targetSteps) {
        this.combination = combination;
        this.members = members;
        this.weights = weights;
        this.divisor = divisor;
        this.classes = classes;
        this.fin = fin;
        this.passthrough = passthrough;
        this.calibration = calibration;
        this.isotonic = isotonic;
        this.targetSteps = targetSteps;
        int trees = 0;
        for (Model m : members) trees += m.treeCount();
        this.nTrees = trees;
        switch (combination) {
            case "stack" -> this.nOutputs = fin.outputs();
            case "vote", "calibrate" -> this.nOutputs = classes.size();
            default -> this.nOutputs = members[0].outputs();
        }
    }

    /** Its members on the calling thread ({@link Model#onCallingThread}); the final model is linear and never shares. */
    @Override
    public Composite onCallingThread() {
        Model[] alone = new Model[members.length];
        for (int i = 0; i < members.length; i++) alone[i] = members[i].onCallingThread();
        return new Composite(combination, alone, weights, divisor, classes, fin, passthrough, calibration, isotonic, targetSteps);
    }

    @Override
    public List<String> features() {
        return members[0].features();
    }

    @Override
    public int outputs() {
        return nOutputs;
    }

    @Override
    public int treeCount() {
        return nTrees;
    }

    @Override
    public String refusal(double[] x) {
        for (Model m : members) {
            String error = m.refusal(x);
            if (error != null) return error;
        }
        if (passthrough) return fin.refusal(concat(new double[0], x));
        return null;
    }

    static List<JsonNode> classesOf(Model m) {
        return m instanceof TreeEnsemble ? ((TreeEnsemble) m).classes : ((LinearModel) m).classes;
    }

    /** Two probabilities give the second; any other member all its outputs. */
    private static boolean twoProbabilities(Model m) {
        List<JsonNode> c = classesOf(m);
        return c != null && c.size() == 2 && m.outputs() == 2;
    }

    /** Null, or the row error; scores x into out and leaves. */
    String scoreChecked(double[] x, double[] out, int[] leaves) {
        double[][] scored = new double[members.length][];
        int at = 0;
        for (int i = 0; i < members.length; i++) {
            Model m = members[i];
            scored[i] = new double[m.outputs()];
            int[] memberLeaves = new int[m.treeCount()];
            m.score(x, scored[i], memberLeaves);
            if (leaves != null) System.arraycopy(memberLeaves, 0, leaves, at, memberLeaves.length);
            at += memberLeaves.length;
        }
        switch (combination) {
            case "average" -> {
                double[] acc = new double[nOutputs];
                for (int i = 0; i < members.length; i++) for (int k = 0; k < nOutputs; k++) acc[k] += scored[i][k] * weights[i];
                for (int k = 0; k < nOutputs; k++) out[k] = acc[k] / divisor;
            }
            case "vote" -> {
                double[] acc = new double[nOutputs];
                for (int i = 0; i < members.length; i++) {
                    int c = memberClass(scored[i]);
                    for (int k = 0; k < nOutputs; k++) acc[k] += (k == c ? 1.0 : 0.0) * weights[i];
                }
                System.arraycopy(acc, 0, out, 0, nOutputs);
            }
            case "stack" -> {
                int width = 0;
                for (int i = 0; i < members.length; i++) width += twoProbabilities(members[i]) ? 1 : scored[i].length;
                double[] columns = new double[width];
                int j = 0;
                for (int i = 0; i < members.length; i++) {
                    if (twoProbabilities(members[i])) columns[j++] = scored[i][1];
                    else for (double v : scored[i]) columns[j++] = v;
                }
                double[] input = passthrough ? concat(columns, x) : columns;
                String error = fin.refusal(input);
                if (error != null) return error;
                fin.score(input, out, null);
            }
            case "calibrate" -> calibrate(scored, out);
            case "target" -> out[0] = scored[0][0];
            default -> throw new IllegalStateException("combination " + combination + " passed the reader");
        }
        return targetSteps.length == 0 ? null : inverseTarget(out);
    }

    /** The regressor's prediction out[0] through the target steps; not finite, it is the row error. */
    private String inverseTarget(double[] out) {
        double t = out[0];
        if (!Double.isFinite(t)) {
            return "the regressor's prediction " + Text.number(t) + " is not finite, which the inverse target transform refuses";
        }
        for (TargetStep step : targetSteps) t = step.apply(t);
        out[0] = t;
        return null;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The first of equal maxima, or for one decision score class 1 iff it is > 0. */
    static int memberClass(double[] values) {
        if (values.length == 1) return values[0] > 0 ? 1 : 0;
        int best = 0;
        for (int k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
        return best;
    }

    private void calibrate(double[][] scored, double[] out) {
        int k = classes.size();
        double[] acc = new double[k];
        for (int i = 0; i < members.length; i++) {
            double[] t = k == 2 && scored[i].length == 2 ? new double[] {scored[i][1]} : scored[i];
            double[] p = new double[t.length];
            for (int c = 0; c < t.length; c++) {
                double[] params = calibration[i][c];
                if (isotonic) {
                    p[c] = interpolate(params, t[c]);
                } else {
                    double z = -(params[0] * t[c] + params[1]);
                    p[c] = 1.0 / (1.0 + Math.exp(-z));
                }
            }
            double[] proba = new double[k];
            if (k == 2) {
                proba[0] = 1.0 - p[0];
                proba[1] = p[0];
            } else {
                double total = pairwiseSum(p, 0, p.length);
                for (int c = 0; c < k; c++) proba[c] = total != 0 ? p[c] / total : 1.0 / k;
            }
            for (int c = 0; c < k; c++) {
                if (1.0 < proba[c] && proba[c] <= 1.0 + 1e-5) proba[c] = 1.0;
                acc[c] = acc[c] + proba[c];
            }
        }
        for (int c = 0; c < k; c++) out[c] = acc[c] / divisor;
    }

    /** numpy's interp over (x, y) rows, x strictly rising (SEMANTICS note 19). */
    static double interpolate(double[] points, double t) {
        int n = points.length / 2;
        if (t < points[0]) return points[1];
        if (t >= points[2 * (n - 1)]) return points[2 * (n - 1) + 1];
        int lo = 0;
        int hi = n - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (points[2 * mid] <= t) lo = mid; else hi = mid;
        }
        double x0 = points[2 * lo];
        double y0 = points[2 * lo + 1];
        if (t == x0) return y0;
        double slope = (points[2 * hi + 1] - y0) / (points[2 * hi] - x0);
        return slope * (t - x0) + y0;
    }

    /** numpy's pairwise sum of a contiguous row (crossform.ir.pairwise_sum). */
    static double pairwiseSum(double[] a, int from, int n) {
        if (n < 8) {
            double total = a[from];
            for (int i = 1; i < n; i++) total += a[from + i];
            return total;
        }
        if (n <= 128) {
            double[] r = new double[8];
            System.arraycopy(a, from, r, 0, 8);
            int stop = n - n % 8;
            for (int i = 8; i < stop; i++) r[i % 8] += a[from + i];
            double total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (int i = stop; i < n; i++) total += a[from + i];
            return total;
        }
        int half = n / 2;
        half -= half % 8;
        return pairwiseSum(a, from, half) + pairwiseSum(a, from + half, n - half);
    }

    @Override
    public void score(double[] x, double[] out, int[] leaves) {
        String error = scoreChecked(x, out, leaves);
        if (error != null) {
            // a refusal only the scores tell (a stack's final model, the target steps) comes from scoreOrRefuse
            java.util.Arrays.fill(out, Double.NaN);
        }
    }

    /** The stack's final refusal and the target steps' depend on the members' outputs, so refusal and score go together here. */
    @Override
    public String scoreOrRefuse(double[] x, double[] out, int[] leaves) {
        String error = refusal(x);
        return error != null ? error : scoreChecked(x, out, leaves);
    }

    @Override
    public void canonical(Canonical w) {
        w.text("composite");
        w.text(combination);
        TreeEnsemble.classes(w, classes);
        w.u32(members.length);
        for (Model m : members) m.canonical(w);
        w.f64s(weights);
        w.f64(divisor);
        if (fin != null) {
            fin.canonical(w);
            w.u8(passthrough ? 1 : 0);
        }
        if (calibration != null && isotonic) {
            w.text("isotonic");
            for (double[][] columns : calibration) {
                w.u32(columns.length);
                for (double[] points : columns) w.f64s(points);
            }
        } else if (calibration != null) {
            for (double[][] columns : calibration) {
                w.u32((long) columns.length * 2);
                for (double[] ab : columns) {
                    w.f64(ab[0]);
                    w.f64(ab[1]);
                }
            }
        }
        if (targetSteps.length > 0) {
            w.u32(targetSteps.length);
            for (TargetStep step : targetSteps) {
                w.text(step.operation().written);
                if (step.operation().takesNumber) w.f64(step.number());
            }
        }
    }

    /** A member scores the first member's features, in order, as the IR requires: every format's reader. */
    static void checkMemberFeatures(Model first, Model member, String where) throws PackageException {
        if (!member.features().equals(first.features())) {
            throw new PackageException.Malformed(where, "expected the features of the first member, " + first.features() + ", found " + member.features());
        }
    }

    /**
     * Where a composite may carry {@code count} target steps, as the IR says (docs/SEMANTICS.md
     * notes 22-23): under 'target' at least one, over one regressor member with weight and divisor
     * 1.0; under 'average' or 'stack' of a regressor, any number; nowhere else. Every format's reader.
     */
    static void checkTargetSteps(int count, String combination, Model[] members, double[] weights, double divisor,
            List<JsonNode> classes, LinearModel fin, String where) throws PackageException {
        if (combination.equals("target")) {
            if (members.length != 1 || classes != null || members[0].outputs() != 1 || classesOf(members[0]) != null) {
                throw new PackageException.Malformed(where, "expected one regressor member under combination 'target', found " + members.length
                        + " members" + (classes != null ? " and classes" : ""));
            }
            if (weights[0] != 1.0 || divisor != 1.0) {
                throw new PackageException.Malformed(where, "expected weight and divisor 1.0 under combination 'target' (unused), found "
                        + weights[0] + " and " + divisor);
            }
            if (count == 0) throw new PackageException.Malformed(where, "expected target steps under combination 'target', found none");
        } else if (count > 0 && (!(combination.equals("average") || combination.equals("stack")) || classes != null
                || (fin != null && fin.classes != null))) {
            throw new PackageException.Malformed(where, "expected target steps only in a regressor combined by 'target', 'average' or 'stack', found combination "
                    + Text.shown(combination));
        }
    }
}

package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A composite model (stripe-json {@code composite-regression} / {@code composite-classification}):
 * members (tree ensembles or linear models) score the same features by their own rules, then
 * the combination joins them (docs/SEMANTICS.md, "Composite models"): average, vote, stack
 * (a final linear model) or calibrate (sigmoid or isotonic).
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
    final int nOutputs;
    final int nTrees;

    Composite(String combination, Model[] members, double[] weights, double divisor, List<JsonNode> classes, LinearModel fin,
            boolean passthrough, double[][][] calibration, boolean isotonic) {
        this.combination = combination;
        this.members = members;
        this.weights = weights;
        this.divisor = divisor;
        this.classes = classes;
        this.fin = fin;
        this.passthrough = passthrough;
        this.calibration = calibration;
        this.isotonic = isotonic;
        int trees = 0;
        for (Model m : members) trees += m.treeCount();
        this.nTrees = trees;
        switch (combination) {
            case "stack" -> this.nOutputs = fin.outputs();
            case "vote", "calibrate" -> this.nOutputs = classes.size();
            default -> this.nOutputs = members[0].outputs();
        }
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
            default -> throw new IllegalStateException("combination " + combination + " passed the reader");
        }
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
            // a refusal of the final model is found by refusal() first; never reached for a checked row
            java.util.Arrays.fill(out, Double.NaN);
        }
    }

    /** The stack's final refusal depends on the members' outputs, so refusal and score go together here. */
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
    }
}

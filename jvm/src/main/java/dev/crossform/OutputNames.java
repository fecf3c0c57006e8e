package dev.crossform;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The names of a model's outputs, as the IR gives them (crossform.ir's {@code outputs}):
 * {@code prediction}, {@code probability(<class>)}, {@code decision} or {@code decision(<class>)},
 * {@code votes(<class>)}, or an isolation forest's {@code score} and {@code decision}. The
 * manifest's optional {@code outputs} must be these, as the Python reader requires.
 */
final class OutputNames {
    private OutputNames() {}

    static List<String> of(Model model) {
        if (model instanceof TreeEnsemble t) {
            if (t.postTransform.equals("isolation")) return List.of("score", "decision");
            return t.classes == null ? List.of("prediction") : perClass("probability", t.classes);
        }
        if (model instanceof LinearModel m) {
            if (m.classes == null) return List.of("prediction");
            if (!m.postTransform.equals("none")) return perClass("probability", m.classes);
            return m.coefficients.length == 1 ? List.of("decision") : perClass("decision", m.classes);
        }
        Composite c = (Composite) model;
        if (c.fin != null) return of(c.fin);
        if (c.classes == null) return List.of("prediction");
        return perClass(c.combination.equals("vote") ? "votes" : "probability", c.classes);
    }

    private static List<String> perClass(String prefix, List<JsonNode> classes) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : classes) out.add(prefix + "(" + label(c) + ")");
        return out;
    }

    /** A class label as Python's str() writes it: True/False, an integer's digits, a float's repr. */
    static String label(JsonNode c) {
        if (c.isTextual()) return c.textValue();
        if (c.isBoolean()) return c.booleanValue() ? "True" : "False";
        if (c.isIntegralNumber()) return c.bigIntegerValue().toString();
        return pythonRepr(c.doubleValue());
    }

    /** Python's repr of a finite double: positional from 1e-4 up to 1e16, else d.ddde+XX. */
    static String pythonRepr(double x) {
        if (x == 0) return (1 / x < 0) ? "-0.0" : "0.0";
        BigDecimal d = new BigDecimal(Double.toString(x)).stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String plain = d.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (x < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}

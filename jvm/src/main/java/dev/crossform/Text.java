package dev.crossform;

/** How values are echoed in messages: quoted, cut to 80 characters. */
final class Text {
    private Text() {}

    public static String shown(Object value) {
        String text = value instanceof String ? "'" + value + "'" : String.valueOf(value);
        return text.length() > 80 ? text.substring(0, 77) + "..." : text;
    }

    /** A double as Python's repr writes it, for messages (inf, nan, 1.0). */
    public static String number(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        return Double.toString(x);
    }
}

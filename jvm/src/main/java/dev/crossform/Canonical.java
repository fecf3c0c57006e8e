package dev.crossform;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The canonical bytes of docs/IDENTITY.md (version 1), fed straight into SHA-256, and the
 * package id {@code sha256.<base32>} made of them.
 */
final class Canonical {
    public static final String MAGIC = "crossform-ir/1\n";
    public static final String PREFIX = "sha256.";
    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private final MessageDigest hash;
    private final ByteBuffer scratch = ByteBuffer.allocate(8);

    public Canonical() {
        try {
            hash = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        hash.update(MAGIC.getBytes(StandardCharsets.US_ASCII));
    }

    public void u8(int v) {
        hash.update((byte) v);
    }

    public void u32(long v) {
        scratch.clear();
        scratch.putInt((int) v);
        hash.update(scratch.array(), 0, 4);
    }

    public void i32(int v) {
        u32(v);
    }

    public void i64(long v) {
        scratch.clear();
        scratch.putLong(v);
        hash.update(scratch.array(), 0, 8);
    }

    /** Every NaN as the one quiet NaN 7ff8000000000000, every other value bit for bit. */
    public void f64(double v) {
        i64(Double.isNaN(v) ? 0x7ff8000000000000L : Double.doubleToRawLongBits(v));
    }

    public void text(String s) {
        byte[] data = s.getBytes(StandardCharsets.UTF_8);
        u32(data.length);
        hash.update(data);
    }

    public void texts(Collection<String> values) {
        u32(values.size());
        for (String v : values) text(v);
    }

    public void optionalF64(Double v) {
        if (v == null) {
            u8(0);
        } else {
            u8(1);
            f64(v);
        }
    }

    public void f64s(double[] values) {
        u32(values.length);
        for (double v : values) f64(v);
    }

    public void i32s(int[] values) {
        u32(values.length);
        for (int v : values) i32(v);
    }

    public String id() {
        return PREFIX + base32(hash.digest());
    }

    /** RFC 4648 base32, upper case, no padding. */
    static String base32(byte[] data) {
        StringBuilder out = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32[(buffer >>> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) out.append(BASE32[(buffer << (5 - bits)) & 31]);
        return out.toString();
    }

    /** Strings sorted by code point (Python's order), which String.compareTo is not beyond the BMP. */
    public static int byCodePoint(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    public static List<String> sortedByCodePoint(Collection<String> values) {
        List<String> out = new ArrayList<>(values);
        out.sort(Canonical::byCodePoint);
        return out;
    }
}

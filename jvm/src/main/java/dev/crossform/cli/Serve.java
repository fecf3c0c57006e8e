package dev.crossform.cli;

import dev.crossform.CrossformPackage;
import dev.crossform.PackageException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A long-lived scorer for one client process, speaking a length-prefixed binary protocol on
 * stdin/stdout (big-endian; text is u32 length + UTF-8). Each request is a u8 operation:
 * <pre>
 * 1 LOAD    text path, u8 layout          -> 0, u32 handle, u32 outputs, u32 trees, text id
 *           (layout 0 EXPANDED: trees as nodes in preorder; 1 COMPACT: scored from the bonsai
 *           encoding; {@link CrossformPackage.Layout})
 * 2 SCORE   u32 handle, u32 rows, u32 inputs, per input u8 kind (0 numeric: rows x f64;
 *           1 categorical: per row i32 length, -1 missing, then UTF-8)
 *                                          -> 0, rows x outputs f64, per row i32 length (-1: no
 *                                             error) + UTF-8, rows x trees i32 (preorder leaf)
 * 3 UNLOAD  u32 handle                    -> 0
 * 4 VERSION                               -> 0, text: "crossform-jvm VERSION, protocol N, Java V"
 * </pre>
 * N is {@link #PROTOCOL}, raised whenever a request or an answer changes, so that a client
 * checks first that it speaks the protocol of the jar it started (a jar built before a change
 * would read the new requests out of step).
 * A refusal answers 1, text exception name, text kind (an UnsupportedKind's, else empty),
 * text message. The stream ends when stdin does.
 */
public final class Serve {
    /** The protocol this class speaks: 2 since LOAD carries a layout byte. */
    public static final int PROTOCOL = 2;
    static final int MAX_TEXT = 1 << 26;

    /** The most rows one SCORE takes (the jvm runtime sends at most crossform's CHUNK_ROWS, 10,000). */
    static final int MAX_ROWS = 1 << 20;
    static final int SCRATCH_KEPT = 1 << 24;

    private final Map<Integer, CrossformPackage> loaded = new HashMap<>();
    private int next = 1;
    private byte[] scratch = new byte[1 << 16];

    public static void main(String[] args) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out, 1 << 16));
        System.setOut(System.err); // nothing but answers may reach the protocol stream
        new Serve().run(in, out);
    }

    void run(DataInputStream in, DataOutputStream out) throws IOException {
        while (true) {
            int op;
            try {
                op = in.readUnsignedByte();
            } catch (EOFException e) {
                return;
            }
            switch (op) {
                case 1 -> load(in, out);
                case 2 -> score(in, out);
                case 3 -> {
                    loaded.remove(in.readInt());
                    out.writeByte(0);
                }
                case 4 -> {
                    out.writeByte(0);
                    text(out, "crossform-jvm " + Version.VERSION + ", protocol " + PROTOCOL + ", Java " + System.getProperty("java.version"));
                }
                default -> throw new IOException("unknown operation " + op + "; the stream is out of step");
            }
            out.flush();
        }
    }

    private void load(DataInputStream in, DataOutputStream out) throws IOException {
        String path = readText(in);
        int layout = in.readUnsignedByte();
        try {
            if (layout >= CrossformPackage.Layout.values().length) {
                throw new IllegalArgumentException("layout " + layout + " (expected 0 EXPANDED or 1 COMPACT)");
            }
            CrossformPackage pkg = CrossformPackage.load(Path.of(path), CrossformPackage.Layout.values()[layout]);
            int handle = next++;
            loaded.put(handle, pkg);
            out.writeByte(0);
            out.writeInt(handle);
            out.writeInt(pkg.outputs());
            out.writeInt(pkg.trees());
            text(out, pkg.id());
        } catch (PackageException e) {
            out.writeByte(1);
            text(out, e.getClass().getSimpleName());
            text(out, e instanceof PackageException.UnsupportedKind ? ((PackageException.UnsupportedKind) e).kind() : "");
            text(out, e.getMessage());
        } catch (RuntimeException e) {
            out.writeByte(1);
            text(out, e.getClass().getSimpleName());
            text(out, "");
            text(out, path + ": " + e);
        }
    }

    private void score(DataInputStream in, DataOutputStream out) throws IOException {
        int handle = in.readInt();
        int rows = in.readInt();
        int inputs = in.readInt();
        if (rows < 0 || rows > MAX_ROWS) throw new IOException("a batch of " + rows + " rows (at most " + MAX_ROWS + "); the stream is out of step");
        double[][] nums = new double[inputs][];
        String[][] strs = new String[inputs][];
        for (int i = 0; i < inputs; i++) {
            int kind = in.readUnsignedByte();
            if (kind == 0) {
                // a column at once: one read and one bulk conversion rather than a call per value
                byte[] b = buffer(rows * 8);
                in.readFully(b, 0, rows * 8);
                nums[i] = new double[rows];
                ByteBuffer.wrap(b, 0, rows * 8).asDoubleBuffer().get(nums[i]);
            } else {
                strs[i] = new String[rows];
                for (int r = 0; r < rows; r++) {
                    int n = in.readInt();
                    strs[i][r] = n < 0 ? null : readBytes(in, n);
                }
            }
        }
        CrossformPackage pkg = loaded.get(handle);
        String refused = pkg == null ? "no package loaded as handle " + handle
                : pkg.inputs().size() != inputs ? "expected " + pkg.inputs().size() + " input columns, found " + inputs
                : (long) rows * Math.max(8L * pkg.outputs(), 4L * pkg.trees()) > Integer.MAX_VALUE - 8
                        ? rows + " rows of " + pkg.trees() + " trees' leaves do not fit one answer; send fewer rows" : null;
        if (refused != null) {
            out.writeByte(1);
            text(out, "ProtocolError");
            text(out, "");
            text(out, refused);
            return;
        }
        int k = pkg.outputs();
        int t = pkg.trees();
        double[] values = new double[rows * k];
        int[] leaves = new int[rows * t];
        String[] errors = new String[rows];
        pkg.scoreBatch(nums, strs, rows, values, leaves, errors);
        out.writeByte(0);
        byte[] b = buffer(Math.max(values.length * 8, leaves.length * 4));
        ByteBuffer.wrap(b).asDoubleBuffer().put(values);
        out.write(b, 0, values.length * 8);
        for (String e : errors) {
            if (e == null) {
                out.writeInt(-1);
            } else {
                byte[] m = e.getBytes(StandardCharsets.UTF_8);
                out.writeInt(m.length);
                out.write(m);
            }
        }
        ByteBuffer.wrap(b).asIntBuffer().put(leaves);
        out.write(b, 0, leaves.length * 4);
    }

    /** A scratch array of at least {@code size} bytes, kept between requests (grown, never shrunk below 64 kB). */
    private byte[] buffer(int size) {
        if (scratch.length < size || (scratch.length > SCRATCH_KEPT && size <= SCRATCH_KEPT)) {
            scratch = new byte[Math.max(size, 1 << 16)];
        }
        return scratch;
    }

    private static String readText(DataInputStream in) throws IOException {
        return readBytes(in, in.readInt());
    }

    private static String readBytes(DataInputStream in, int n) throws IOException {
        if (n < 0 || n > MAX_TEXT) throw new IOException("a text of " + n + " bytes; the stream is out of step");
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static void text(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }
}

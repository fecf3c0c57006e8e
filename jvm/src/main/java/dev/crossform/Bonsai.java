package dev.crossform;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/**
 * The reader of bonsai 1.x tree files (docs/formats/bonsai.md). It reads the columns in their
 * file encoding ({@link Column}), checks every rule of the format on them, then hands out the
 * trees in the layout the caller chose: {@link CompactTree} over those columns, or each tree
 * expanded from them to its nodes in preorder ({@link Tree}); the refusals are the same in both. Every
 * count in the header is checked against the bytes behind it before anything is allocated per
 * node.
 */
final class Bonsai {
    static final byte[] MAGIC = {(byte) 0x89, 'B', 'O', 'N', 'S', 'A', 'I', '\n'};
    static final int MAJOR = 1;
    static final int MINOR = 1;
    static final int FLAG_SETS = 1;
    static final long MAX_TREES = 1L << 17;
    static final long MAX_OUTPUTS = 1L << 16;
    static final long MAX_NODES = (1L << 31) - 1;
    static final long MAX_VALUES = 1L << 28;
    static final long VALUES_BASE = 1L << 22;
    static final long VALUES_PER_BYTE = 64;
    static final int MAX_SET_SIZE = 65536;
    static final int HEADER = 32;
    static final int RAW = 0;
    static final int DICTIONARY = 1;
    static final int FLOAT32_REWRITE = 2;

    private Bonsai() {}

    /** The trees of a bonsai file and their leaf width. */
    public static final class Forest {
        final DecisionTree[] trees;
        public final int width;

        Forest(DecisionTree[] trees, int width) {
            this.trees = trees;
            this.width = width;
        }
    }

    private static final class Reader {
        final ByteBuffer buffer;
        final String where;

        Reader(byte[] data, int end, String where) {
            this.buffer = ByteBuffer.wrap(data, 0, end).order(ByteOrder.BIG_ENDIAN);
            this.where = where;
        }

        void need(long bytes, String what) throws PackageException {
            if (bytes > buffer.remaining()) {
                throw new PackageException.Truncated(where, what + " needs " + bytes + " bytes at offset " + buffer.position()
                        + ", the file has " + buffer.remaining() + " before its checksum");
            }
        }

        int u8(String what) throws PackageException {
            need(1, what);
            return buffer.get() & 0xff;
        }

        long u32(String what) throws PackageException {
            need(4, what);
            return buffer.getInt() & 0xffffffffL;
        }

        long[] u32s(long n, String what) throws PackageException {
            need(4 * n, what);
            long[] out = new long[(int) n];
            for (int i = 0; i < out.length; i++) out[i] = buffer.getInt() & 0xffffffffL;
            return out;
        }

        long[] u64s(long n, String what) throws PackageException {
            need(8 * n, what);
            long[] out = new long[(int) n];
            for (int i = 0; i < out.length; i++) out[i] = buffer.getLong();
            return out;
        }
    }

    public static Forest read(byte[] data, String where, int nFeatures) throws PackageException {
        return read(data, where, nFeatures, CrossformPackage.Layout.EXPANDED);
    }

    public static Forest read(byte[] data, String where, int nFeatures, CrossformPackage.Layout layout) throws PackageException {
        if (data.length < HEADER + 4) {
            throw new PackageException.Truncated(where, "expected at least " + (HEADER + 4) + " bytes (header and checksum), found " + data.length);
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (data[i] != MAGIC[i]) {
                throw new PackageException.Bonsai(where, "expected the bonsai magic \\x89BONSAI\\n, found other bytes");
            }
        }
        ByteBuffer header = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
        int major = header.getShort(8) & 0xffff;
        int minor = header.getShort(10) & 0xffff;
        long flags = header.getInt(12) & 0xffffffffL;
        long nTrees = header.getInt(16) & 0xffffffffL;
        long width = header.getInt(20) & 0xffffffffL;
        long nNodes = header.getLong(24);
        if (major != MAJOR) {
            throw new PackageException.FormatVersion(where, "written in bonsai " + major + "." + minor + "; this reader reads bonsai 1.x");
        }
        int end = data.length - 4;
        long stored = header.getInt(end) & 0xffffffffL;
        CRC32 crc = new CRC32();
        crc.update(data, 0, end);
        if (crc.getValue() != stored) {
            throw new PackageException.Checksum(where, String.format(
                    "the CRC-32 of the content is %08x, the file records %08x: the bytes changed after they were written", crc.getValue(), stored));
        }
        int rules = Math.min(minor, MINOR);
        long defined = rules >= 1 ? FLAG_SETS : 0;
        if ((flags & ~defined) != 0) {
            throw new PackageException.Bonsai(where, "expected flags 0" + (rules >= 1 ? " or 1 (set splits)" : "") + " (bonsai 1." + rules + "), found " + flags);
        }
        limit(nTrees, MAX_TREES, "trees", where);
        limit(width, MAX_OUTPUTS, "outputs per leaf", where);
        if (nNodes < 1 || nNodes > MAX_NODES) {
            throw new PackageException.LimitExceeded(where, "expected 1 to " + MAX_NODES + " nodes, found " + Long.toUnsignedString(nNodes));
        }
        if (nNodes * width > MAX_VALUES) {
            throw new PackageException.LimitExceeded(where, "expected at most " + MAX_VALUES + " node values (nodes x outputs), found " + nNodes + " x " + width);
        }
        if (nNodes < nTrees) {
            throw new PackageException.Bonsai(where, nTrees + " trees need at least " + nTrees + " nodes, found " + nNodes);
        }
        Reader r = new Reader(data, end, where);
        r.buffer.position(HEADER);
        long[] base = r.u32s(nTrees + 1, "the tree offsets");
        boolean rising = base[0] == 0 && base[(int) nTrees] == nNodes;
        for (int t = 0; t < nTrees && rising; t++) rising = base[t + 1] > base[t];
        if (!rising) {
            throw new PackageException.Bonsai(where, "tree offsets must rise from 0 to the node count " + nNodes);
        }
        int n = (int) nNodes;
        long[] words = readBitset(r, n, "the structure bitset");
        long blocks = (words.length + 7) / 8;
        long[] ranks = r.u32s(blocks, "the rank directory");
        long counted = 0;
        for (int b = 0; b < blocks; b++) {
            if (ranks[b] != counted) {
                throw new PackageException.Bonsai(where, "the rank directory does not count the structure bitset's 1 bits: block " + b
                        + " expected " + counted + ", found " + ranks[b]);
            }
            for (int w = b * 8; w < Math.min(words.length, b * 8 + 8); w++) counted += Long.bitCount(words[w]);
        }
        int splits = 0;
        for (int t = 0; t < nTrees; t++) {
            int s = 0;
            for (long i = base[t]; i < base[t + 1]; i++) s += bit(words, (int) i) ? 1 : 0;
            long size = base[t + 1] - base[t];
            if (size != 2L * s + 1) {
                throw new PackageException.Bonsai(where, "tree " + t + ": " + s + (s == 1 ? " split needs " : " splits need ") + (2L * s + 1)
                        + " nodes, the tree has " + size);
            }
            splits += s;
        }
        int leaves = n - splits;
        long allowed = VALUES_BASE + VALUES_PER_BYTE * data.length;
        if (nNodes * width > allowed) {
            throw new PackageException.LimitExceeded(where, "expected at most " + allowed + " node values (nodes x outputs) for a file of "
                    + data.length + " bytes, found " + nNodes + " x " + width);
        }
        Column feature = column(r, splits, 1, false, true, "split feature");
        for (int i = 0; i < splits; i++) {
            int f = feature.integer(i);
            if (f < 0 || f >= nFeatures) {
                throw new PackageException.Malformed(where, "split " + i + ": feature " + f + " is not one of the model's " + nFeatures + " features");
            }
        }
        Column threshold = column(r, splits, 1, true, false, "split threshold");
        long[] missing = readBitset(r, splits, "the missing-direction bitset");
        CompactTree.Sets sets = (flags & FLAG_SETS) != 0 ? readSets(r, splits, threshold) : null;
        Column leafValues = column(r, leaves, (int) width, false, false, "leaf");
        if (r.buffer.remaining() != 0) {
            throw new PackageException.Bonsai(where, "expected the checksum at offset " + r.buffer.position() + ", found "
                    + r.buffer.remaining() + " more bytes first");
        }
        for (int i = 0; i < splits; i++) {
            double t = threshold.value(i);
            boolean ok = rules >= 1 ? !Double.isNaN(t) && t != Double.NEGATIVE_INFINITY : Double.isFinite(t);
            if (!ok) {
                throw new PackageException.Bonsai(where, "threshold " + i + ": expected " + (rules >= 1 ? "a number or +inf" : "finite numbers") + ", found " + Text.number(t));
            }
        }
        for (int i = 0; i < leaves; i++) {
            for (int k = 0; k < width; k++) {
                double v = leafValues.value(i, k);
                if (!Double.isFinite(v)) {
                    throw new PackageException.Bonsai(where, "leaf value " + i + ": expected finite numbers, found " + Text.number(v));
                }
            }
        }
        for (int t = 0; t < nTrees; t++) {
            int a = (int) base[t];
            int size = (int) (base[t + 1] - base[t]);
            int rank = 0;
            for (int p = 0; p < size; p++) {
                if (!bit(words, a + p)) continue;
                if (p >= 2 * rank + 1) {
                    throw new PackageException.Bonsai(where, "tree " + t + ": node " + p
                            + " comes after the children the level order gives it, so some node is unreachable");
                }
                rank++;
            }
        }
        int[] directory = new int[(int) blocks];
        for (int b = 0; b < blocks; b++) directory[b] = (int) ranks[b];
        CompactTree.Columns columns = new CompactTree.Columns(words, directory, feature, threshold, missing, sets, leafValues, (int) width);
        DecisionTree[] trees = new DecisionTree[(int) nTrees];
        for (int t = 0; t < nTrees; t++) {
            CompactTree tree = new CompactTree(columns, (int) base[t], (int) (base[t + 1] - base[t]));
            trees[t] = layout == CrossformPackage.Layout.COMPACT ? tree : tree.expanded();
        }
        return new Forest(trees, (int) width);
    }

    private static void limit(long count, long limit, String what, String where) throws PackageException {
        if (count < 1 || count > limit) {
            throw new PackageException.LimitExceeded(where, "expected 1 to " + limit + " " + what + ", found " + count);
        }
    }

    static boolean bit(long[] words, int i) {
        return ((words[i >>> 6] >>> (i & 63)) & 1L) != 0;
    }

    private static long[] readBitset(Reader r, int n, String what) throws PackageException {
        long[] words = r.u64s((n + 63L) / 64, what);
        if (words.length > 0 && n % 64 != 0) {
            long padding = words[words.length - 1] >>> (n % 64);
            if (padding != 0) {
                throw new PackageException.Bonsai(r.where, what + ": the " + (words.length * 64L - n)
                        + " padding bits after the last element must be 0, found bit " + (n + Long.numberOfTrailingZeros(padding)) + " set");
            }
        }
        return words;
    }

    /** n elements of {@code width} values (row-major) in their encoding; integers (i32) or doubles (f64). */
    private static Column column(Reader r, int n, int width, boolean rewrite, boolean integers, String what) throws PackageException {
        int tag = r.u8("the " + what + " column's encoding");
        long count = (long) n * width;
        if (tag == RAW) {
            Object values = elements(r, count, integers, "the " + what + " column");
            return integers ? Column.rawIntegers((int[]) values) : Column.rawDoubles(n, width, (double[]) values);
        }
        if (tag == DICTIONARY) {
            long k = r.u32("the " + what + " dictionary size");
            if (n == 0) {
                throw new PackageException.Bonsai(r.where, "the " + what + " column has no elements, so it must be raw; found a dictionary of " + k + " entries");
            }
            if (k < 1 || k > n) {
                throw new PackageException.Bonsai(r.where, "the " + what + " dictionary must hold 1 to " + n + " entries (one per " + what + " at most), found " + k);
            }
            Object keys = elements(r, k * width, integers, "the " + what + " dictionary");
            int w = r.u8("the " + what + " index width");
            int expected = k <= 256 ? 1 : k <= 65536 ? 2 : 4;
            if (w != expected) {
                throw new PackageException.Bonsai(r.where, "the " + what + " dictionary of " + k + " entries needs indexes of " + expected + " bytes, found width " + w);
            }
            r.need((long) n * w, "the " + what + " indexes");
            byte[] index8 = w == 1 ? new byte[n] : null;
            char[] index16 = w == 2 ? new char[n] : null;
            int[] index32 = w == 4 ? new int[n] : null;
            for (int i = 0; i < n; i++) {
                long index = w == 1 ? r.buffer.get() & 0xff : w == 2 ? r.buffer.getShort() & 0xffff : r.buffer.getInt() & 0xffffffffL;
                if (index >= k) {
                    throw new PackageException.Bonsai(r.where, what + " " + i + ": dictionary index " + index + " is beyond the dictionary's " + k + " entries");
                }
                if (w == 1) index8[i] = (byte) index;
                else if (w == 2) index16[i] = (char) index;
                else index32[i] = (int) index;
            }
            return Column.dictionary(n, width, keys, w == 1 ? index8 : w == 2 ? index16 : index32);
        }
        if (tag == FLOAT32_REWRITE && rewrite) {
            r.need(4L * n, "the " + what + " column");
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                float f = r.buffer.getFloat();
                if (!Float.isFinite(f)) {
                    throw new PackageException.Bonsai(r.where, what + " " + i + ": expected a finite float32, found " + f);
                }
                out[i] = f;
            }
            return Column.float32Rewrite(out);
        }
        throw new PackageException.Bonsai(r.where, "unknown encoding " + tag + " for the " + what + " column (expected 0 raw, 1 dictionary"
                + (rewrite ? ", 2 float32-rewrite" : "") + ")");
    }

    /** An int[] (integers) or a double[] of count elements. */
    private static Object elements(Reader r, long count, boolean integers, String what) throws PackageException {
        r.need(count * (integers ? 4 : 8), what);
        if (integers) {
            int[] out = new int[(int) count];
            for (int i = 0; i < out.length; i++) out[i] = r.buffer.getInt();
            return out;
        }
        double[] out = new double[(int) count];
        for (int i = 0; i < out.length; i++) out[i] = r.buffer.getDouble();
        return out;
    }

    private static CompactTree.Sets readSets(Reader r, int splits, Column threshold) throws PackageException {
        long[] isSet = readBitset(r, splits, "the set bitset");
        int q = 0;
        for (long w : isSet) q += Long.bitCount(w);
        if (q == 0) {
            throw new PackageException.Bonsai(r.where, "flag 1 (set splits) is set, but the set bitset marks no split");
        }
        long[] offsets = r.u32s(q + 1L, "the set offsets");
        if (offsets[0] != 0) {
            throw new PackageException.Bonsai(r.where, "set offsets must rise from 0, found " + offsets[0] + " first");
        }
        for (int k = 0; k < q; k++) {
            long size = offsets[k + 1] - offsets[k];
            if (size < 0) {
                throw new PackageException.Bonsai(r.where, "set offsets must rise from 0, found " + offsets[k] + " then " + offsets[k + 1]);
            }
            if (size > MAX_SET_SIZE) {
                throw new PackageException.LimitExceeded(r.where, "set " + k + ": expected at most " + MAX_SET_SIZE + " values, found " + size);
            }
        }
        Column column = column(r, (int) offsets[q], 1, false, false, "set value");
        double[] values = new double[column.n];
        for (int i = 0; i < values.length; i++) {
            values[i] = column.value(i);
            if (!Double.isFinite(values[i])) {
                throw new PackageException.Bonsai(r.where, "set value " + i + ": expected a finite number, found " + Text.number(values[i]));
            }
        }
        int[] from = new int[q + 1];
        int k = 0;
        for (int s = 0; s < splits; s++) {
            if (!bit(isSet, s)) continue;
            int a = (int) offsets[k];
            int b = (int) offsets[k + 1];
            for (int i = a + 1; i < b; i++) {
                if (!(values[i] > values[i - 1])) {
                    throw new PackageException.Bonsai(r.where, "set " + k + ": expected strictly rising values, found " + values[i - 1] + " then " + values[i]);
                }
            }
            if (threshold.value(s) != 0.0) {
                throw new PackageException.Bonsai(r.where, "split " + s + ": a set split's threshold must be 0.0, found " + Text.number(threshold.value(s)));
            }
            from[k] = a;
            k++;
        }
        from[q] = (int) offsets[q];
        return new CompactTree.Sets(isSet, from, values);
    }
}

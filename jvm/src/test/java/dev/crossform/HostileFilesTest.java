package dev.crossform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crafted bytes and paths: each refused with its own named exception naming the file, never a
 * raw IndexError-like crash, a hang or an allocation the file does not pay for.
 */
class HostileFilesTest {
    @TempDir
    Path tmp;

    private Path copy(String name) throws IOException {
        Path source = Repo.root().resolve("conformance/golden/stripe-json/2.0/packages/" + name);
        Path target = tmp.resolve(name);
        Files.createDirectories(target);
        try (Stream<Path> s = Files.list(source)) {
            for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, target.resolve(p.getFileName()));
        }
        return target;
    }

    private static void withCrc(byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(data, 0, data.length - 4);
        ByteBuffer.wrap(data).putInt(data.length - 4, (int) crc.getValue());
    }

    /** Refused as {@code type} naming {@code file}, in both layouts by the same exception and message. */
    private static <T extends PackageException> T refused(Class<T> type, Path pkg, String file) {
        T e = assertThrows(type, () -> CrossformPackage.load(pkg, CrossformPackage.Layout.EXPANDED));
        assertTrue(e.file().endsWith(file), "the error names " + e.file() + ", expected " + file);
        T compact = assertThrows(type, () -> CrossformPackage.load(pkg, CrossformPackage.Layout.COMPACT));
        assertEquals(e.getClass(), compact.getClass(), "COMPACT refuses with another exception");
        assertEquals(e.getMessage(), compact.getMessage(), "COMPACT refuses with another message");
        return e;
    }

    @Test
    void aPackageReadsAndHashesToItsId() throws Exception {
        Path pkg = copy("rf-binary");
        String manifest = Files.readString(pkg.resolve("MODEL"));
        CrossformPackage read = CrossformPackage.load(pkg);
        assertTrue(manifest.contains("\"" + read.id() + "\""), "the manifest records " + read.id());
    }

    @Test
    void aChangedByteFailsTheChecksum() throws Exception {
        Path pkg = copy("rf-binary");
        byte[] data = Files.readAllBytes(pkg.resolve("trees.bonsai"));
        data[data.length / 2] ^= 1;
        Files.write(pkg.resolve("trees.bonsai"), data);
        refused(PackageException.Checksum.class, pkg, "trees.bonsai");
    }

    @Test
    void anotherMagicIsRefused() throws Exception {
        Path pkg = copy("rf-binary");
        byte[] data = Files.readAllBytes(pkg.resolve("trees.bonsai"));
        data[1] = 'X';
        Files.write(pkg.resolve("trees.bonsai"), data);
        PackageException e = refused(PackageException.Bonsai.class, pkg, "trees.bonsai");
        assertTrue(e.reason().contains("magic"), e.reason());
    }

    @Test
    void anotherMajorVersionIsRefused() throws Exception {
        Path pkg = copy("rf-binary");
        byte[] data = Files.readAllBytes(pkg.resolve("trees.bonsai"));
        data[9] = 2;
        data[8] = 0;
        withCrc(data);
        Files.write(pkg.resolve("trees.bonsai"), data);
        refused(PackageException.FormatVersion.class, pkg, "trees.bonsai");
    }

    @Test
    void aShortFileIsTruncated() throws Exception {
        Path pkg = copy("rf-binary");
        Files.write(pkg.resolve("trees.bonsai"), new byte[20]);
        refused(PackageException.Truncated.class, pkg, "trees.bonsai");
    }

    @Test
    void aHugeNodeCountOverASmallFileIsRefusedQuickly() throws Exception {
        Path pkg = copy("rf-binary");
        byte[] data = Files.readAllBytes(pkg.resolve("trees.bonsai"));
        ByteBuffer.wrap(data).putLong(24, (1L << 28) - 1);
        withCrc(data);
        Files.write(pkg.resolve("trees.bonsai"), data);
        long start = System.nanoTime();
        refused(PackageException.Malformed.class, pkg, "trees.bonsai");
        assertTrue(System.nanoTime() - start < 2_000_000_000L, "refused in under 2 s");
    }

    @Test
    void everyTruncationOfTheTreesIsRefusedByName() throws Exception {
        Path pkg = copy("rf-binary");
        byte[] data = Files.readAllBytes(pkg.resolve("trees.bonsai"));
        for (int cut = 36; cut < data.length; cut += Math.max(1, data.length / 97)) {
            byte[] shorter = java.util.Arrays.copyOf(data, cut);
            withCrc(shorter);
            Files.write(pkg.resolve("trees.bonsai"), shorter);
            refused(PackageException.Malformed.class, pkg, "trees.bonsai");
        }
    }

    /**
     * Every byte of a bonsai file with set splits flipped in turn (its CRC made right again): each
     * file is refused by both layouts with the same exception and message, or read by both.
     */
    @Test
    void everyFlippedByteOfASetSplitFileIsJudgedAlikeInBothLayouts() throws Exception {
        Path source = Repo.root().resolve("conformance/golden/stripe-json/2.1/packages/hgb-binary-categorical");
        Path pkg = tmp.resolve("hgb-binary-categorical");
        Files.createDirectories(pkg);
        try (Stream<Path> s = Files.list(source)) {
            for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, pkg.resolve(p.getFileName()));
        }
        byte[] data = Files.readAllBytes(pkg.resolve("trees.bonsai"));
        assertEquals(1, data[15], "the file has set splits (flag 1)");
        int refusedAlike = 0;
        for (int at = 8; at < data.length - 4; at++) {
            for (int flip : new int[] {0x01}) {
                byte[] changed = data.clone();
                changed[at] ^= (byte) flip;
                withCrc(changed);
                Files.write(pkg.resolve("trees.bonsai"), changed);
                PackageException expanded = null;
                PackageException compact = null;
                try {
                    CrossformPackage.load(pkg, CrossformPackage.Layout.EXPANDED);
                } catch (PackageException e) {
                    expanded = e;
                }
                try {
                    CrossformPackage.load(pkg, CrossformPackage.Layout.COMPACT);
                } catch (PackageException e) {
                    compact = e;
                }
                String where = "byte " + at + " ^ " + flip;
                assertEquals(expanded == null, compact == null, where + ": one layout reads the file, the other refuses it");
                if (expanded == null) continue;
                assertEquals(expanded.getClass(), compact.getClass(), where);
                assertEquals(expanded.getMessage(), compact.getMessage(), where);
                refusedAlike++;
            }
        }
        assertTrue(refusedAlike > data.length / 2, "most changed files are refused, found " + refusedAlike);
    }

    @Test
    void anEditedIdIsAMismatch() throws Exception {
        Path pkg = copy("rf-binary");
        String manifest = Files.readString(pkg.resolve("MODEL"));
        Files.writeString(pkg.resolve("MODEL"), manifest.replaceFirst("\"sha256\\.[A-Z2-7]", "\"sha256.A"));
        refused(PackageException.IdMismatch.class, pkg, "MODEL");
    }

    @Test
    void anEditedParameterIsAMismatch() throws Exception {
        Path pkg = copy("impute-then-scale");
        Path scaler = pkg.resolve("standard-scaler.json");
        String text = Files.readString(scaler);
        String edited = text.replaceFirst("0\\.44956927366491606", "0.45");
        assertTrue(!edited.equals(text), "the file has a scale to edit");
        Files.writeString(scaler, edited);
        refused(PackageException.IdMismatch.class, pkg, "MODEL");
    }

    @Test
    void duplicateKeysAndNanLiteralsAreNotJson() throws Exception {
        Path pkg = copy("rf-binary");
        String manifest = Files.readString(pkg.resolve("MODEL"));
        Files.writeString(pkg.resolve("MODEL"), manifest.replaceFirst("\\{", "{\"owner\": null, \"owner\": null, "));
        refused(PackageException.BadJson.class, pkg, "MODEL");
        Files.writeString(pkg.resolve("MODEL"), manifest.replaceFirst("\\{", "{\"x\": NaN, "));
        refused(PackageException.BadJson.class, pkg, "MODEL");
    }

    @Test
    void aKeyTheSchemaDoesNotNameIsRefused() throws Exception {
        Path pkg = copy("impute-then-scale");
        String model = Files.readString(pkg.resolve("model.json"));
        Files.writeString(pkg.resolve("model.json"), model.replaceFirst("\\{", "{\"leafWidth\": 1, "));
        PackageException e = refused(PackageException.Malformed.class, pkg, "model.json");
        assertTrue(e.reason().contains("unexpected key 'leafWidth'"), e.reason());  // a 2.1 key in a 2.0 package
        Files.writeString(pkg.resolve("model.json"), model);
        String scaler = Files.readString(pkg.resolve("standard-scaler.json"));
        Files.writeString(pkg.resolve("standard-scaler.json"), scaler.replaceFirst("\\{", "{\"with_mean\": true, "));
        refused(PackageException.Malformed.class, pkg, "standard-scaler.json");
    }

    @Test
    void deeplyNestedJsonIsRefusedByName() throws Exception {
        Path pkg = copy("rf-binary");
        Files.writeString(pkg.resolve("MODEL"), "[".repeat(2_000_000) + "]".repeat(2_000_000));
        refused(PackageException.BadJson.class, pkg, "MODEL");
    }

    @Test
    void aLinkOrAPathOutsideThePackageIsUnsafe() throws Exception {
        Path pkg = copy("rf-binary");
        Path outside = tmp.resolve("elsewhere.bonsai");
        Files.move(pkg.resolve("trees.bonsai"), outside);
        Files.createSymbolicLink(pkg.resolve("trees.bonsai"), outside);
        refused(PackageException.Unsafe.class, pkg, "trees.bonsai");
        String model = Files.readString(pkg.resolve("model.json"));
        // a path leaving the package is no plain relative path: the schema's pattern refuses it
        // before any file is opened (PackageFiles would refuse it as Unsafe too)
        Files.writeString(pkg.resolve("model.json"), model.replace("\"trees.bonsai\"", "\"../elsewhere.bonsai\""));
        PackageException e = refused(PackageException.Malformed.class, pkg, "model.json");
        assertTrue(e.getMessage().contains("'../elsewhere.bonsai'"), e.getMessage());
    }

    @Test
    void aKindNotReadYetIsNamed() throws Exception {
        Path pkg = copy("rf-binary");
        String manifest = Files.readString(pkg.resolve("MODEL"));
        Files.writeString(pkg.resolve("MODEL"), manifest.replace("\"simple-bonsai-classification-forest\"", "\"simple-bonsai-ranking-forest\""));
        PackageException.UnsupportedKind e = assertThrows(PackageException.UnsupportedKind.class, () -> CrossformPackage.load(pkg));
        assertEquals("model simple-bonsai-ranking-forest", e.kind());  // a kind a later crossform may write
    }

    @Test
    void aStripeJson1TreeThatIsNoTreeIsRefused() throws Exception {
        Path golden = Repo.root().resolve("conformance/golden/stripe-json/1.0/packages/rf-binary");
        Path pkg = tmp.resolve("json-trees");
        Files.createDirectories(pkg);
        try (Stream<Path> s = Files.list(golden)) {
            for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, pkg.resolve(p.getFileName()));
        }
        String model = Files.readString(pkg.resolve("model.json"));
        // the root's left child made the root itself: a cycle, which a walk would never leave
        int at = model.indexOf("\"left\":[") + "\"left\":[".length();
        int comma = model.indexOf(',', at);
        Files.writeString(pkg.resolve("model.json"), model.substring(0, at) + "0" + model.substring(comma));
        PackageException e = assertThrows(PackageException.Malformed.class, () -> CrossformPackage.load(pkg));
        assertTrue(e.getMessage().contains("model.json") && e.getMessage().contains("child indices in [1, "), e.getMessage());
        Files.writeString(pkg.resolve("model.json"), model.replace("\"modelType\":\"simple-json-classification-forest\"",
                "\"modelType\":\"simple-json-regression-forest\""));
        String manifest = Files.readString(pkg.resolve("MODEL"));
        Files.writeString(pkg.resolve("MODEL"), manifest.replace("simple-json-classification-forest", "simple-json-regression-forest"));
        e = assertThrows(PackageException.Malformed.class, () -> CrossformPackage.load(pkg));
        assertTrue(e.getMessage().contains("expected modelType 'simple-json-classification-forest' for this model"), e.getMessage());
    }

    @Test
    void aRowErrorNamesTheFeatureAndTheValue() throws Exception {
        CrossformPackage pkg = CrossformPackage.load(copy("unknown-is-error"));
        java.util.Map<String, Object> row = new java.util.HashMap<>();
        for (int i = 0; i < pkg.inputs().size(); i++) row.put(pkg.inputs().get(i), pkg.isCategorical(i) ? "no-such-category" : 1.0);
        CrossformPackage.Result r = pkg.score(row);
        assertTrue(r.error != null && r.error.contains("unknown category 'no-such-category'"), String.valueOf(r.error));
        assertEquals(null, r.values);
    }

    @Test
    void base32IsRfc4648WithoutPadding() {
        assertEquals("MZXW6YTBOI", Canonical.base32("foobar".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("MY", Canonical.base32("f".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void theFloat32RewriteMatchesItsRule() {
        // 0.5f has an even mantissa: the midpoint; the next float up is odd: the double below its midpoint
        float f = 0.5f;
        assertEquals((0.5 + (double) Math.nextUp(0.5f)) / 2, Floats.float32Threshold(f));
        float odd = Math.nextUp(0.5f);
        assertEquals(Math.nextDown(((double) odd + (double) Math.nextUp(odd)) / 2), Floats.float32Threshold(odd));
        assertEquals(Double.MAX_VALUE, Floats.float32Threshold(Float.MAX_VALUE));
        for (int i = 0; i < 100000; i++) {
            float g = Float.intBitsToFloat(0x3f000000 + i * 37);
            double t = Floats.float32Threshold(g);
            assertTrue((float) t <= g && (float) Math.nextUp(t) > g, "x <= t' iff float32(x) <= f at " + g);
        }
    }
}

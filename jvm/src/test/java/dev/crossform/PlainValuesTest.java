package dev.crossform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The constructors from plain values (what a reader of another format builds from its own
 * messages) refuse what the stripe-json reader refuses, and give the same canonical bytes.
 */
class PlainValuesTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final List<String> F = List.of("a", "b");
    private static final List<String> O = List.of("p0");

    private static String digest(Encoder e) {
        Canonical w = new Canonical();
        e.canonical(w);
        return w.id();
    }

    @Test
    void aProjectionFromPlainValuesIsTheOneTheFileGives() throws Exception {
        Path file = Repo.root().resolve("conformance/packages/pca-columns-one-hot/projection.json");
        JsonNode doc = MAPPER.readTree(Files.readString(file));
        List<String> features = Json.texts(doc, "features", "f");
        List<String> outputs = Json.texts(doc, "outputs", "f");
        Encoder read = Projection.read(doc, features, outputs, "f");
        double[][] components = new double[doc.get("components").size()][];
        for (int k = 0; k < components.length; k++) components[k] = MAPPER.treeToValue(doc.get("components").get(k), double[].class);
        Projection built = new Projection(features, outputs, MAPPER.treeToValue(doc.get("mean"), double[].class), components, null,
                Projection.Centring.valueOf(doc.get("centring").asText().toUpperCase()), "built");
        assertEquals(digest(read), digest(built));
        Projection whitened = new Projection(features, outputs, built.mean, components, new double[] {1.0, 1.0}, built.centring, "built");
        assertTrue(!digest(whitened).equals(digest(built)), "the divisors are part of the canonical bytes");
    }

    @Test
    void aProjectionFromPlainValuesRefusesAsTheReaderDoes() {
        double[] mean = {0.0, 0.0};
        double[][] c = {{1.0, 2.0}};
        assertThrows(PackageException.Malformed.class, () -> new Projection(F, O, mean, c, new double[] {0.0}, Projection.Centring.AFTER, "w"));
        assertThrows(PackageException.Malformed.class, () -> new Projection(F, O, new double[] {0.0}, c, null, Projection.Centring.AFTER, "w"));
        assertThrows(PackageException.Malformed.class, () -> new Projection(F, O, mean, new double[][] {{1.0}}, null, Projection.Centring.BEFORE, "w"));
        assertThrows(PackageException.Malformed.class, () -> new Projection(F, List.of("a"), mean, c, null, Projection.Centring.AFTER, "w"));
        assertThrows(PackageException.Malformed.class, () -> new Projection(F, O, mean, new double[][] {{1.0, Double.NaN}}, null, Projection.Centring.AFTER, "w"));
    }

    @Test
    void aTargetStepFromPlainValuesRefusesAsTheReaderDoes() throws Exception {
        assertThrows(PackageException.Malformed.class, () -> Composite.TargetStep.of(Composite.TargetOperation.EXP, 1.0, "w"));
        assertThrows(PackageException.Malformed.class, () -> Composite.TargetStep.of(Composite.TargetOperation.ADD, null, "w"));
        assertThrows(PackageException.Malformed.class, () -> Composite.TargetStep.of(Composite.TargetOperation.DIVIDE, 0.0, "w"));
        assertThrows(PackageException.Malformed.class, () -> Composite.TargetStep.of(Composite.TargetOperation.MULTIPLY, Double.POSITIVE_INFINITY, "w"));
        Composite.TargetStep step = Composite.TargetStep.of(Composite.TargetOperation.EXPM1, null, "w");
        assertTrue(Double.isNaN(step.number()));
    }
}

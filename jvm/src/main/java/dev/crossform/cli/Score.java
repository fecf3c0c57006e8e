package dev.crossform.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crossform.CrossformPackage;
import dev.crossform.PackageException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The command-line scorer: {@code java -cp ... dev.crossform.cli.Score PACKAGE_DIR < rows.jsonl}
 * reads one JSON object per line (field name to value; null missing) and writes one JSON line
 * per row: {@code {"values": [...]}} or {@code {"error": "..."}}. Exit status 2 when the package
 * is refused (the reason on stderr).
 */
public final class Score {
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Score PACKAGE (a stripe-json directory or a protobuf file) < rows.jsonl   (crossform-jvm " + Version.VERSION + ")");
            System.exit(2);
        }
        CrossformPackage pkg;
        try {
            pkg = CrossformPackage.load(Path.of(args[0]));
        } catch (PackageException e) {
            System.err.println(e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        ObjectMapper mapper = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            ObjectNode answer = mapper.createObjectNode();
            JsonNode row;
            try {
                row = mapper.readTree(line);
            } catch (IOException e) {
                row = null;
            }
            if (row == null || !row.isObject()) {
                answer.put("error", "expected a JSON object per line");
            } else {
                Map<String, Object> values = new HashMap<>();
                row.fields().forEachRemaining(e -> values.put(e.getKey(),
                        e.getValue().isNumber() ? (Object) e.getValue().doubleValue()
                                : e.getValue().isTextual() ? e.getValue().textValue()
                                : e.getValue().isBoolean() ? (Object) e.getValue().booleanValue() : null));
                CrossformPackage.Result r = pkg.score(values);
                if (r.error != null) {
                    answer.put("error", r.error);
                } else {
                    ArrayNode out = answer.putArray("values");
                    for (double v : r.values) out.add(v);
                }
            }
            System.out.println(mapper.writeValueAsString(answer));
        }
    }
}

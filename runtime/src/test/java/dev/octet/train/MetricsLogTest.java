package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @Test
    void writesOneParsableObjectPerStep(@TempDir Path dir) throws IOException {
        Path runDir = dir.resolve("run-1");
        try (MetricsLog log = MetricsLog.openIn(runDir)) {
            log.append(new StepMetrics(1, 10.25, 3e-4, 1.5, 12_000, 0.8));
            log.append(new StepMetrics(2, 9.5, 3e-4, 1.25, 12_500, 1.6).with("val_loss", 9.75).with("note", "warmup"));
            // Visible on disk before the log is closed: a crash keeps what was logged.
            assertEquals(2, Files.readAllLines(log.file()).size());
        }
        List<JsonObject> lines = MetricsLog.read(runDir.resolve(MetricsLog.FILE_NAME));
        assertEquals(2, lines.size());
        JsonObject first = lines.get(0);
        assertEquals(1, first.get("step").getAsLong());
        assertEquals(10.25, first.get("loss").getAsDouble());
        assertEquals(3e-4, first.get("lr").getAsDouble());
        assertEquals(1.5, first.get("grad_norm").getAsDouble());
        assertEquals(12_000, first.get("tokens_per_s").getAsDouble());
        assertEquals(0.8, first.get("elapsed_s").getAsDouble());
        assertEquals(9.75, lines.get(1).get("val_loss").getAsDouble());
        assertEquals("warmup", lines.get(1).get("note").getAsString());
    }

    @Test
    void appendsToAnExistingLogAndKeepsNonFiniteLosses(@TempDir Path dir) throws IOException {
        try (MetricsLog log = MetricsLog.openIn(dir)) {
            log.append(new StepMetrics(1, 2.0, 1e-3, 0.5, 100, 1));
        }
        try (MetricsLog log = MetricsLog.openIn(dir)) {
            log.append(new StepMetrics(2, Double.NaN, 1e-3, Double.POSITIVE_INFINITY, 100, 2));
        }
        List<JsonObject> lines = MetricsLog.read(dir.resolve(MetricsLog.FILE_NAME));
        assertEquals(2, lines.size());
        assertTrue(Double.isNaN(lines.get(1).get("loss").getAsDouble()));
        assertEquals(Double.POSITIVE_INFINITY, lines.get(1).get("grad_norm").getAsDouble());
    }

    @Test
    void rejectsExtraFieldsThatShadowFixedOnes() {
        assertThrows(IllegalArgumentException.class, () -> new StepMetrics(1, 1, 1, 1, 1, 1, Map.of("loss", 2.0)));
        assertThrows(IllegalArgumentException.class, () -> new StepMetrics(1, 1, 1, 1, 1, 1, Map.of("tensor", new int[1])));
    }
}

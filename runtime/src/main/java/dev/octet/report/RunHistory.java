package dev.octet.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.octet.train.Fp8HealthLog;
import dev.octet.train.MetricsLog;
import dev.octet.train.RunManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a report shows of one run: its numeric metrics as series over steps, its FP8 health samples,
 * and its manifest (absent for runs written before manifests existed).
 */
public record RunHistory(String name, Path dir, Optional<RunManifest> manifest, Map<String, List<Point>> series,
                         List<HealthSample> health) {

    public RunHistory {
        series = Map.copyOf(series);
        health = List.copyOf(health);
    }

    /** The values of one metrics field over steps, non-finite ones (a skipped step's loss) left out. */
    public List<Point> series(String field) {
        return series.getOrDefault(field, List.of());
    }

    /** The held-out loss; runs from before periodic evaluation named it {@code val_loss}. */
    public List<Point> evalLoss() {
        List<Point> eval = series("eval_loss");
        return eval.isEmpty() ? series("val_loss") : eval;
    }

    public String recipe() {
        return manifest.map(RunManifest::recipe).orElse("unknown recipe");
    }

    public static RunHistory load(Path dir, String name) throws ReportException {
        if (!Files.isDirectory(dir)) {
            throw new ReportException(dir + ": no such run directory");
        }
        Path metrics = dir.resolve(MetricsLog.FILE_NAME);
        if (!Files.isRegularFile(metrics)) {
            throw new ReportException(dir + ": not a run directory (no " + MetricsLog.FILE_NAME + ")");
        }
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (JsonObject line : readJsonLines(metrics)) {
            long step = line.get("step").getAsLong();
            for (Map.Entry<String, JsonElement> field : line.entrySet()) {
                JsonElement v = field.getValue();
                if (!field.getKey().equals("step") && v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                    double value = v.getAsDouble();
                    if (Double.isFinite(value)) {
                        series.computeIfAbsent(field.getKey(), k -> new ArrayList<>()).add(new Point(step, value));
                    }
                }
            }
        }
        List<HealthSample> health = new ArrayList<>();
        Path healthFile = dir.resolve(Fp8HealthLog.FILE_NAME);
        if (Files.isRegularFile(healthFile)) {
            for (JsonObject line : readJsonLines(healthFile)) {
                long step = line.get("step").getAsLong();
                try {
                    for (JsonElement e : line.getAsJsonArray("tensors")) {
                        JsonObject t = e.getAsJsonObject();
                        health.add(new HealthSample(step, t.get("tensor").getAsString(), t.get("snr_db").getAsDouble(),
                                t.get("saturated").getAsDouble(), t.get("flushed").getAsDouble(), t.get("amax").getAsDouble()));
                    }
                } catch (RuntimeException e) {
                    throw new ReportException(healthFile + ": step " + step + ": a malformed tensor entry (" + e.getMessage() + ")");
                }
            }
        }
        return new RunHistory(name, dir, RunManifest.readFrom(dir), series, health);
    }

    private static List<JsonObject> readJsonLines(Path file) throws ReportException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ReportException(file + ": cannot read: " + e.getMessage());
        }
        List<String> lines = text.lines().toList();
        // A run killed while writing leaves a last line without its newline: read up to the last whole line.
        boolean torn = !text.isEmpty() && !text.endsWith("\n");
        List<JsonObject> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                JsonObject o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
                JsonElement step = o.get("step");
                if (step == null || !step.isJsonPrimitive() || !step.getAsJsonPrimitive().isNumber()
                        || step.getAsDouble() != Math.rint(step.getAsDouble())) {
                    throw new ReportException(file + ":" + (i + 1) + ": a record without a whole-number \"step\"");
                }
                out.add(o);
            } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
                if (torn && i == lines.size() - 1) {
                    break;
                }
                throw new ReportException(file + ":" + (i + 1) + ": not a JSON record: " + e.getMessage());
            }
        }
        return out;
    }
}

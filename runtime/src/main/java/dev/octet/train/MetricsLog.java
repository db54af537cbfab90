package dev.octet.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Appends one JSON object per logged step to {@code RUN_DIR/metrics.jsonl}. Each line is flushed
 * as it is written, so a run that crashes keeps every step it logged. A non-finite loss is written
 * as the bare token NaN or Infinity, which Gson and Python's json module both read back.
 */
public final class MetricsLog implements AutoCloseable {

    public static final String FILE_NAME = "metrics.jsonl";

    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private final Path file;
    private final BufferedWriter out;

    private MetricsLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Opens {@code runDir/metrics.jsonl} for appending, creating the directory and file if needed. */
    public static MetricsLog openIn(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path file = runDir.resolve(FILE_NAME);
        return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE));
    }

    /**
     * A log that keeps nothing: what the ranks other than 0 of a data-parallel run write to, since rank 0's log
     * has every step's reduced loss and norm.
     */
    static MetricsLog discarding(Path runDir) {
        return new MetricsLog(runDir.resolve(FILE_NAME), new BufferedWriter(java.io.Writer.nullWriter()));
    }

    public Path file() {
        return file;
    }

    public synchronized void append(StepMetrics metrics) throws IOException {
        out.write(GSON.toJson(toJson(metrics)));
        out.newLine();
        out.flush();
    }

    static JsonObject toJson(StepMetrics metrics) {
        JsonObject line = new JsonObject();
        line.addProperty("step", metrics.step());
        line.addProperty("loss", metrics.loss());
        line.addProperty("lr", metrics.learningRate());
        line.addProperty("grad_norm", metrics.gradNorm());
        line.addProperty("tokens_per_s", metrics.tokensPerSecond());
        line.addProperty("elapsed_s", metrics.elapsedSeconds());
        metrics.extra().forEach((name, value) -> line.add(name, GSON.toJsonTree(value)));
        return line;
    }

    /** Reads a metrics file back, one object per non-empty line. */
    public static List<JsonObject> read(Path file) throws IOException {
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.filter(line -> !line.isBlank()).map(line -> JsonParser.parseString(line).getAsJsonObject()).toList();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}

package dev.octet.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.octet.cpu.exec.Fp8TensorHealth;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Appends one line per measured step to {@code RUN_DIR/fp8_health.jsonl}:
 * {@code {"step": 50, "tensors": [{"tensor", "layer", "gemm", "operand", "elements", "amax", "saturated",
 * "flushed", "snr_db"}, ...]}}, fractions for saturated and flushed. A lossless quantization has
 * {@code snr_db} Infinity. The file is created with the first line, so a BF16 run has none.
 */
public final class Fp8HealthLog implements AutoCloseable {
    public static final String FILE_NAME = "fp8_health.jsonl";

    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private final Path file;
    private Optional<BufferedWriter> out = Optional.empty();

    private Fp8HealthLog(Path file) {
        this.file = file;
    }

    public static Fp8HealthLog in(Path runDir) {
        return new Fp8HealthLog(runDir.resolve(FILE_NAME));
    }

    public Path file() {
        return file;
    }

    public synchronized void append(long step, List<Fp8TensorHealth> tensors) throws IOException {
        if (tensors.isEmpty()) {
            return;
        }
        if (out.isEmpty()) {
            Files.createDirectories(file.toAbsolutePath().getParent());
            out = Optional.of(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE));
        }
        BufferedWriter w = out.get();
        w.write(GSON.toJson(toJson(step, tensors)));
        w.newLine();
        w.flush();
    }

    static JsonObject toJson(long step, List<Fp8TensorHealth> tensors) {
        JsonObject line = new JsonObject();
        line.addProperty("step", step);
        JsonArray entries = new JsonArray();
        for (Fp8TensorHealth t : tensors) {
            JsonObject e = new JsonObject();
            e.addProperty("tensor", t.tensor());
            e.addProperty("layer", t.layer());
            e.addProperty("gemm", t.gemm().lowerName());
            e.addProperty("operand", t.operand().lowerName());
            e.addProperty("elements", t.health().elements());
            e.addProperty("amax", t.health().amax());
            e.addProperty("saturated", t.health().saturatedFraction());
            e.addProperty("flushed", t.health().flushedFraction());
            e.addProperty("snr_db", t.health().snrDb());
            entries.add(e);
        }
        line.add("tensors", entries);
        return line;
    }

    /** The tensor with the lowest SNR: the one summarized in the metrics line. */
    public static Optional<Fp8TensorHealth> worst(List<Fp8TensorHealth> tensors) {
        return tensors.stream().min(Comparator.comparingDouble(t -> t.health().snrDb()));
    }

    @Override
    public synchronized void close() throws IOException {
        if (out.isPresent()) {
            out.get().close();
        }
    }
}

package dev.octet.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.octet.checkpoint.AtomicFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Puts a run's per-step logs ({@code metrics.jsonl}, {@code fp8_health.jsonl}) back in agreement with the
 * checkpoint a run resumes from. A kill after a step's line was written but before its checkpoint leaves lines
 * the resumed run writes again, and a kill in the middle of a line leaves a torn last line; both go, so that
 * every step appears once and every line is whole. The file is replaced atomically.
 */
public final class StepLogs {
    private StepLogs() {}

    /**
     * Keeps the whole lines of {@code file} whose {@code step} is below {@code completedSteps} (steps are counted
     * from 0, so a checkpoint after N steps holds steps 0 to N - 1); returns how many lines went. Nothing to do
     * when the file is absent.
     */
    public static int truncate(Path file, long completedSteps) throws IOException {
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        StringBuilder kept = new StringBuilder(text.length());
        int dropped = 0;
        int from = 0;
        while (from < text.length()) {
            int end = text.indexOf('\n', from);
            if (end < 0) {
                dropped++; // torn: the write of this line never finished
                break;
            }
            String line = text.substring(from, end);
            from = end + 1;
            if (line.isBlank()) {
                continue;
            }
            if (stepOf(file, line) < completedSteps) {
                kept.append(line).append('\n');
            } else {
                dropped++;
            }
        }
        if (dropped > 0) {
            byte[] bytes = kept.toString().getBytes(StandardCharsets.UTF_8);
            AtomicFile.write(file, out -> out.write(ByteBuffer.wrap(bytes)));
        }
        return dropped;
    }

    private static long stepOf(Path file, String line) throws IOException {
        try {
            JsonElement step = JsonParser.parseString(line).getAsJsonObject().get("step");
            if (step != null && step.isJsonPrimitive() && step.getAsJsonPrimitive().isNumber()) {
                return step.getAsLong();
            }
        } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
            // named below
        }
        throw new IOException(file + ": a line that is not a step record: "
                + (line.length() > 80 ? line.substring(0, 80) + "..." : line));
    }
}

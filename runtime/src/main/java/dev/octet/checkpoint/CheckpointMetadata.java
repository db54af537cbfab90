package dev.octet.checkpoint;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a training checkpoint says besides its tensors, stored as the safetensors {@code __metadata__}
 * strings. Where the run stands: optimizer steps completed (AdamW's step count follows from it),
 * the schedule's position (its step within {@code totalSteps}), the data sampler's exact position
 * ({@code BatchSource.position()}, stored as a JSON object of strings under {@code data_sampler}), and the seed. The seed and the sampler position are the whole random state of a CPU run: every draw
 * is a pure function of (seed, counter), the initial weights of the seed alone and batch k of (seed, k).
 * What it was trained from: model, recipe and training names, the model's {@link ModelFingerprint},
 * and the Octet version that wrote it. What the run means besides its model ({@code run_settings}: seed,
 * recipe, optimizer, schedule, clipping, batch), which a resume must keep unless told otherwise; checkpoints
 * written before it was recorded give the seed, schedule and recipe name they always held.
 */
public record CheckpointMetadata(
        long step, long optimizerSteps, long totalSteps, String schedule, Map<String, String> dataPosition, long seed,
        String model, String modelFingerprint, String recipe, String training, String octetVersion,
        double elapsedSeconds, Map<String, String> runSettings) {

    /** Names this layout; a reader refuses a layout it does not know instead of misreading it. */
    public static final String FORMAT = "octet-training-checkpoint-1";

    private static final Gson GSON = new Gson();
    private static final TypeToken<Map<String, String>> STRINGS = new TypeToken<>() {};

    public CheckpointMetadata {
        if (step < 0 || optimizerSteps < 0 || totalSteps < step) {
            throw new IllegalArgumentException("step " + step + " of " + totalSteps + ", optimizer step " + optimizerSteps);
        }
        dataPosition = Collections.unmodifiableMap(new LinkedHashMap<>(dataPosition));
        if (dataPosition.isEmpty() || dataPosition.containsKey(null) || dataPosition.containsValue(null)) {
            throw new IllegalArgumentException("data position " + dataPosition);
        }
        runSettings = Collections.unmodifiableMap(new LinkedHashMap<>(runSettings));
    }

    public Map<String, String> toStrings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("step", Long.toString(step));
        m.put("optimizer_steps", Long.toString(optimizerSteps));
        m.put("total_steps", Long.toString(totalSteps));
        m.put("schedule", schedule);
        m.put("data_sampler", GSON.toJson(dataPosition));
        m.put("seed", Long.toString(seed));
        m.put("model", model);
        m.put("model_fingerprint", modelFingerprint);
        m.put("recipe", recipe);
        m.put("training", training);
        m.put("octet_version", octetVersion);
        m.put("elapsed_s", Double.toString(elapsedSeconds));
        m.put("run_settings", GSON.toJson(runSettings));
        return m;
    }

    public static CheckpointMetadata from(Path file, Map<String, String> m) throws CheckpointException {
        String format = require(file, m, "format");
        if (!format.equals(FORMAT)) {
            throw new CheckpointException(file, "layout " + format + " is not " + FORMAT + "; written by another Octet version?");
        }
        try {
            Map<String, String> dataPosition = GSON.fromJson(require(file, m, "data_sampler"), STRINGS);
            Map<String, String> runSettings = m.containsKey("run_settings") ? GSON.fromJson(m.get("run_settings"), STRINGS)
                    : Map.of("seed", require(file, m, "seed"), "schedule", require(file, m, "schedule"),
                            "recipe", require(file, m, "recipe"));
            return new CheckpointMetadata(
                    Long.parseLong(require(file, m, "step")), Long.parseLong(require(file, m, "optimizer_steps")),
                    Long.parseLong(require(file, m, "total_steps")), require(file, m, "schedule"), dataPosition,
                    Long.parseLong(require(file, m, "seed")), require(file, m, "model"),
                    require(file, m, "model_fingerprint"), require(file, m, "recipe"), require(file, m, "training"),
                    require(file, m, "octet_version"), Double.parseDouble(require(file, m, "elapsed_s")), runSettings);
        } catch (JsonParseException | IllegalArgumentException | NullPointerException e) {
            throw new CheckpointException(file, "unreadable checkpoint metadata: " + e.getMessage());
        }
    }

    private static String require(Path file, Map<String, String> m, String key) throws CheckpointException {
        String v = m.get(key);
        if (v == null) {
            throw new CheckpointException(file, "checkpoint metadata lacks '" + key + "'");
        }
        return v;
    }
}

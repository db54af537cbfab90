package dev.octet.train;

import dev.octet.checkpoint.CheckpointException;
import dev.octet.data.TrainingData;
import dev.octet.dsl.diag.Excerpt;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a run means besides its model: the settings that a resumed run must keep, since changing one makes the
 * continued run a different run from the one its checkpoint started (the model itself is checked by its
 * fingerprint), and the checksum of the training data where it has one, so that other data of the same shape
 * is not mixed into the run unnoticed. Stored in every checkpoint as {@code run_settings}; a resume that changes one is refused, naming
 * it, unless the setting is named in {@code --override}, and then the change is recorded in the run.
 */
public final class RunSettings {
    /** The settings, in the order they are reported; "recipe" also covers the recipe's quantization settings. */
    public static final List<String> NAMES = List.of("seed", "recipe", "optimizer", "schedule", "clip_grad_norm", "batch", "data");

    private RunSettings() {}

    public static Map<String, String> of(TrainingSpec spec, RecipeSpec recipe) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("seed", Long.toString(spec.seed()));
        m.put("recipe", recipe.name());
        m.put("recipe_quantization", recipe.describe());
        TrainingSpec.AdamW o = spec.optimizer();
        m.put("optimizer", String.format(Locale.ROOT, "adamw(lr = %s, beta1 = %s, beta2 = %s, eps = %s, weight_decay = %s)",
                o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay()));
        m.put("schedule", spec.schedule().toString());
        m.put("clip_grad_norm", Double.toString(spec.clipGradNorm()));
        m.put("batch", "global_batch " + spec.globalBatch() + " x seq_len " + spec.seqLen());
        return m;
    }

    /** As above, with the training data's checksum where it has one (a token file of version 2, conversations). */
    public static Map<String, String> of(TrainingSpec spec, RecipeSpec recipe, TrainingData data) {
        Map<String, String> m = of(spec, recipe);
        data.checksum().ifPresent(checksum -> m.put("data", checksum));
        return m;
    }

    /** The setting a stored key belongs to, as {@code --override} names it. */
    static String settingOf(String key) {
        return key.startsWith("recipe") ? "recipe" : key;
    }

    /** One setting the resumed run changes. */
    public record Change(String key, String was, String now) {
        public String setting() {
            return settingOf(key);
        }
    }

    /** The settings of {@code now} that differ from {@code saved}; a key an older checkpoint did not record is not compared. */
    public static List<Change> changes(Map<String, String> saved, Map<String, String> now) {
        List<Change> changes = new ArrayList<>();
        for (Map.Entry<String, String> e : saved.entrySet()) {
            String current = now.get(e.getKey());
            if (current != null && !current.equals(e.getValue())) {
                changes.add(new Change(e.getKey(), e.getValue(), current));
            }
        }
        return changes;
    }

    /** Where the changes a resume made on purpose are kept, one JSON line each. */
    public static final String OVERRIDES_FILE = "overrides.jsonl";

    /** Appends each change to {@code RUN_DIR/overrides.jsonl}: the step it takes effect at, the setting, before and after. */
    static void record(Path runDir, long step, List<Change> changes) throws IOException {
        if (changes.isEmpty()) {
            return;
        }
        StringBuilder lines = new StringBuilder();
        for (Change c : changes) {
            JsonObject line = new JsonObject();
            line.addProperty("step", step);
            line.addProperty("setting", c.key());
            line.addProperty("was", c.was());
            line.addProperty("now", c.now());
            line.addProperty("time", Instant.now().toString());
            lines.append(line).append('\n');
        }
        Files.writeString(runDir.resolve(OVERRIDES_FILE), lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    }

    /** Refuses the changes {@code overrides} does not name, in one line naming each. */
    public static void requireOverridden(Path checkpoint, List<Change> changes, Set<String> overrides) throws CheckpointException {
        List<Change> refused = changes.stream().filter(c -> !overrides.contains(c.setting())).toList();
        if (refused.isEmpty()) {
            return;
        }
        StringBuilder what = new StringBuilder();
        for (Change c : refused) {
            what.append(what.isEmpty() ? "" : "; ").append(c.key()).append(' ').append(Excerpt.clip(c.was()))
                    .append(" -> ").append(Excerpt.clip(c.now()));
        }
        String names = String.join(",", refused.stream().map(Change::setting).distinct().toList());
        throw new CheckpointException(checkpoint, "resuming would change what the run means (" + what
                + "); resume with the settings it was trained with, or pass --override " + names + " to change them on purpose");
    }
}

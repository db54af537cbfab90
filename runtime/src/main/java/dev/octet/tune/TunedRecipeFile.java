package dev.octet.tune;

import dev.octet.dsl.spec.Bf16Scope;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Schedule;
import dev.octet.dsl.spec.TrainingSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code .octet} file {@code octet tune} writes: it imports the tuned file, defines the tuned recipe with a
 * comment per choice giving the measured reason, and a training block that is the original one with the tuned
 * recipe (and the calibration's data), so {@code octet check} and {@code octet train} take it as it is.
 */
public final class TunedRecipeFile {
    /** What the file says about where the measurements came from. */
    /**
     * {@code sequences}: sequences per calibration step, the training block's micro-batch or fewer;
     * {@code initialWeights}: what the calibration started from, if not the seed's initialisation.
     */
    public record Calibration(Path source, Path data, TrainingSpec training, RecipeSpec recipe, int steps, int sequences,
                              Optional<Path> initialWeights) {}

    /** The canonical order of the non-projection entries of a bf16 list. */
    private static final List<String> OP_KINDS = List.of("embedding", "attention_core", "norm", "rope", "activation");

    private TunedRecipeFile() {}

    public static String recipeName(RecipeSpec original) {
        return original.name() + "_tuned";
    }

    public static String render(Path out, Calibration calibration, TuneDecision decision) {
        RecipeSpec original = calibration.recipe();
        TrainingSpec t = calibration.training();
        Path dir = out.toAbsolutePath().normalize().getParent();
        StringBuilder s = new StringBuilder();
        s.append("# Tuned by octet tune from ").append(calibration.source()).append(": ").append(calibration.steps())
                .append(" calibration steps of ").append(calibration.sequences()).append(" x ").append(t.seqLen())
                .append(" tokens of training ").append(t.name()).append(" (recipe ").append(original.name())
                .append(", seed ").append(t.seed()).append(")")
                .append(calibration.initialWeights().map(w -> " from the weights in " + w).orElse(""))
                .append(" on ").append(calibration.data()).append(".\n");
        s.append(comment("Each operand role takes the cheapest candidate (cheapest by " + decision.pricing().basis()
                + ") whose GEMM output, with only that operand in FP8, stays within " + percent(decision.bound())
                + " relative error of the BF16 GEMM on every layer that runs in FP8. Per-layer figures: "
                + TuneReportName.of(out) + "."));
        s.append("import \"").append(relative(dir, calibration.source())).append("\"\n\n");

        s.append("recipe ").append(recipeName(original)).append(" {\n");
        s.append("  scaling = current\n");
        List<ParameterTable.Linear> bf16Added = new ArrayList<>(decision.unmet().keySet());
        bf16Added.sort(Comparator.comparing(ParameterTable.Linear::name));
        for (ParameterTable.Linear l : bf16Added) {
            OperandMeasurements m = decision.unmet().get(l);
            TuneCandidate best = m.candidates().stream().filter(m::fits)
                    .min(Comparator.comparingDouble(c -> m.of(c).gemmRelativeError())).orElseThrow();
            s.append("  # ").append(l.name()).append(" stays BF16: its ").append(m.id().gemm().lowerName()).append(' ')
                    .append(m.id().role().lowerName()).append(" miss ").append(percent(decision.bound()))
                    .append(" with the candidate their role can share (best alone: ").append(best.describe()).append(", ")
                    .append(percent(m.of(best).gemmRelativeError())).append(")\n");
        }
        s.append("  bf16 = ").append(bf16List(original.bf16(), decision)).append('\n');
        s.append("  master_weights   = ").append(original.masterWeights().lowerName()).append('\n');
        s.append("  optimizer_states = ").append(original.optimizerStates().lowerName()).append('\n');
        if (!original.recompute().isEmpty()) {
            s.append("  recompute = [").append(String.join(", ", original.recompute().stream().sorted()
                    .map(Recompute::lowerName).toList())).append("]\n");
        }
        for (Gemm gemm : Gemm.values()) {
            s.append("  ").append(gemm.lowerName()).append(" {\n");
            for (Role role : gemm.operands()) {
                Optional<OperandChoice> choice = Optional.ofNullable(decision.choices().getOrDefault(gemm, Map.of()).get(role));
                if (choice.isPresent()) {
                    s.append("    # ").append(role.lowerName()).append(": ").append(why(choice.get(), decision.bound())).append('\n');
                    TuneCandidate c = choice.get().candidate();
                    s.append(operand(role, c.granularity().describe(), c.format().lowerName(), c.scale().lowerName()));
                } else {
                    OperandQuant q = original.operand(gemm, role);
                    s.append("    # ").append(role.lowerName()).append(": no layer runs it in FP8; as in ").append(original.name()).append('\n');
                    s.append(operand(role, q.granularity().describe(), q.format().lowerName(), q.scaleType().lowerName()));
                }
            }
            s.append("  }\n");
        }
        s.append("}\n\n");

        s.append("# ").append(t.name()).append(" with the tuned recipe.\n");
        s.append("training ").append(t.name()).append("_tuned {\n");
        setting(s, "model", t.model());
        setting(s, "recipe", recipeName(original));
        setting(s, "mode", t.mode().name().toLowerCase(Locale.ROOT));
        TrainingSpec.AdamW o = t.optimizer();
        setting(s, "optimizer", "adamw(lr = " + o.lr() + ", beta1 = " + o.beta1() + ", beta2 = " + o.beta2() + ", eps = "
                + o.eps() + ", weight_decay = " + o.weightDecay() + ")");
        setting(s, "schedule", schedule(t.schedule()));
        setting(s, "clip_grad_norm", Double.toString(t.clipGradNorm()));
        setting(s, "micro_batch", Integer.toString(t.microBatch()));
        setting(s, "global_batch", Integer.toString(t.globalBatch()));
        setting(s, "seq_len", Integer.toString(t.seqLen()));
        setting(s, "steps", Integer.toString(t.steps()));
        setting(s, "seed", Long.toString(t.seed()));
        setting(s, "data", "\"" + relative(dir, calibration.data()).replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
        s.append("}\n");
        return s.toString();
    }

    private static String operand(Role role, String granularity, String format, String scale) {
        return "    " + role.lowerName() + " { granularity = " + granularity + "  format = " + format + "  scale = " + scale + " }\n";
    }

    /** The measured reason for a choice: its worst layer's figures, and what the next cheaper candidate reached. */
    private static String why(OperandChoice choice, double bound) {
        TuneCandidate c = choice.candidate();
        OperandMeasurements worst = choice.worst().orElseThrow();
        Fidelity f = worst.of(c);
        double minSnr = choice.operands().stream().mapToDouble(m -> m.of(c).snrDb()).min().orElseThrow();
        double maxSaturated = choice.operands().stream().mapToDouble(m -> m.of(c).saturatedFraction()).max().orElseThrow();
        double maxFlushed = choice.operands().stream().mapToDouble(m -> m.of(c).flushedFraction()).max().orElseThrow();
        StringBuilder s = new StringBuilder();
        s.append(c.describe()).append(f.gemmRelativeError() <= bound ? ", the cheapest within " : ", the one that keeps most layers within ")
                .append(percent(bound)).append(" on its ").append(choice.operands().size()).append(" layers: worst GEMM error ")
                .append(percent(f.gemmRelativeError())).append(" (").append(worst.id().linear().name()).append("), SNR >= ")
                .append(String.format(Locale.ROOT, "%.1f dB", minSnr)).append(", saturated <= ").append(fraction(maxSaturated))
                .append(", flushed <= ").append(fraction(maxFlushed));
        choice.cheaperMiss().ifPresent(cheaper -> {
            OperandMeasurements at = choice.worstFor(cheaper).orElseThrow();
            s.append("; cheaper ").append(cheaper.describe()).append(" reaches ")
                    .append(percent(at.of(cheaper).gemmRelativeError())).append(" (").append(at.id().linear().name()).append(')');
        });
        return s.toString();
    }

    private static String bf16List(Bf16Scope original, TuneDecision decision) {
        if (original.everything()) {
            return "all";
        }
        List<String> items = new ArrayList<>();
        for (String kind : OP_KINDS) {
            if (original.opKinds().contains(kind)) {
                items.add(kind);
            }
        }
        for (Projection p : Projection.values()) {
            if (original.projections().contains(p) || decision.bf16Projections().contains(p)) {
                items.add(p.lowerName());
            }
        }
        for (Bf16Scope.LayerRange r : original.layers()) {
            items.add(r.from() == r.to() ? "layers[" + r.from() + "]" : "layers[" + r.from() + ".." + r.to() + "]");
        }
        decision.bf16Layers().stream().sorted().forEach(l -> items.add("layers[" + l + "]"));
        return "[" + String.join(", ", items) + "]";
    }

    private static String schedule(Schedule schedule) {
        return switch (schedule) {
            case Schedule.Cosine c -> "cosine(warmup = " + c.warmup() + ", min_lr = " + c.minLr() + ")";
            case Schedule.WarmupStableDecay w -> "wsd(warmup = " + w.warmup() + ", decay = " + w.decayFraction()
                    + ", min_lr = " + w.minLr() + ")";
            case Schedule.Constant k -> "constant(warmup = " + k.warmup() + ")";
        };
    }

    private static void setting(StringBuilder s, String key, String value) {
        s.append("  ").append(key).append(" = ").append(value).append('\n');
    }

    /** A path as the written file refers to it: relative to the file's directory, with forward slashes. */
    private static String relative(Path dir, Path target) {
        Path abs = target.toAbsolutePath().normalize();
        String text = dir == null ? abs.toString() : dir.relativize(abs).toString();
        return text.replace(java.io.File.separatorChar, '/');
    }

    /** {@code text} as comment lines of at most 116 characters, broken between words. */
    private static String comment(String text) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder("#");
        for (String word : text.split(" ")) {
            if (line.length() > 1 && line.length() + 1 + word.length() > 116) {
                out.append(line).append('\n');
                line = new StringBuilder("#");
            }
            line.append(' ').append(word);
        }
        return out.append(line).append('\n').toString();
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }

    private static String fraction(double f) {
        return String.format(Locale.ROOT, "%.3f%%", 100 * f);
    }
}

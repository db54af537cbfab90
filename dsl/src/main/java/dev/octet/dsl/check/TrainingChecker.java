package dev.octet.dsl.check;

import dev.octet.dsl.ast.Assignment;
import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.Expr;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.diag.Suggestions;
import dev.octet.dsl.spec.Schedule;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Checks a {@code training} block. References to the model and recipe are resolved by {@link ProgramChecker}. */
final class TrainingChecker {
    static final Set<String> KEYS = Set.of("model", "recipe", "mode", "optimizer", "schedule", "clip_grad_norm",
            "micro_batch", "global_batch", "seq_len", "steps", "seed", "data");

    private TrainingChecker() {}

    static Optional<TrainingSpec> check(Block block, String name, Diagnostics diagnostics) {
        int before = diagnostics.errorCount();
        BlockReader r = new BlockReader(block, "training '" + name + "'", KEYS, Set.of(), diagnostics);
        r.requireAll("model", "seq_len", "micro_batch", "steps");
        String model = r.name("model").orElse("");
        Optional<String> recipe = r.name("recipe");
        TrainingSpec.Mode mode = r.get("mode").flatMap(a -> r.choice(a.value(), "mode", List.of("pretrain", "sft")))
                .map(s -> TrainingSpec.Mode.valueOf(s.toUpperCase())).orElse(TrainingSpec.Mode.PRETRAIN);
        int microBatch = r.integer("micro_batch", 1, 65_536, 1);
        int globalBatch = r.integer("global_batch", 1, 16_777_216, microBatch);
        int seqLen = r.integer("seq_len", 1, 4_194_304, 1);
        int steps = r.integer("steps", 1, 100_000_000, 1);
        long seed = r.integer("seed", 0, Integer.MAX_VALUE, 0);
        double clip = r.real("clip_grad_norm", 0, true, 1e6, 1.0);
        TrainingSpec.AdamW adamw = r.get("optimizer").map(a -> optimizer(r, a))
                .orElse(new TrainingSpec.AdamW(3e-4, 0.9, 0.95, 1e-8, 0.1));
        Schedule schedule = r.get("schedule").flatMap(a -> schedule(r, a)).orElse(new Schedule.Constant(0));
        if (globalBatch % microBatch != 0) {
            diagnostics.error(r.get("global_batch").orElseThrow().value().pos(),
                    "global_batch = " + globalBatch + " is not a multiple of micro_batch = " + microBatch,
                    "gradients accumulate over global_batch / micro_batch micro-batches");
        }
        if (schedule.warmup() >= steps && r.has("schedule") && r.has("steps")) {
            diagnostics.error(r.get("schedule").orElseThrow().value().pos(),
                    "warmup = " + schedule.warmup() + " is not shorter than steps = " + steps, "use a warmup shorter than the run");
        }
        if (diagnostics.errorCount() > before) {
            return Optional.empty();
        }
        return Optional.of(new TrainingSpec(name, block.pos(), model, recipe, mode, adamw, schedule, clip,
                microBatch, globalBatch, seqLen, steps, seed, r.string("data")));
    }

    private static TrainingSpec.AdamW optimizer(BlockReader r, Assignment a) {
        Map<String, Expr> args = CallOptions.named(r, a.value(), "optimizer", "adamw",
                Set.of("lr", "beta1", "beta2", "eps", "weight_decay"));
        return new TrainingSpec.AdamW(
                CallOptions.real(r, args, "lr", 0, false, 10, 3e-4),
                CallOptions.real(r, args, "beta1", 0, true, 0.999999, 0.9),
                CallOptions.real(r, args, "beta2", 0, true, 0.999999, 0.95),
                CallOptions.real(r, args, "eps", 0, false, 1, 1e-8),
                CallOptions.real(r, args, "weight_decay", 0, true, 10, 0.0));
    }

    private static Optional<Schedule> schedule(BlockReader r, Assignment a) {
        if (!(a.value() instanceof Expr.Call c)) {
            r.diagnostics().error(a.value().pos(), "'schedule' expects cosine(...), wsd(...) or constant(...)",
                    "e.g. schedule = cosine(warmup = 100, min_lr = 3e-5)");
            return Optional.empty();
        }
        return switch (c.callee()) {
            case "cosine" -> {
                var args = CallOptions.named(r, c, "schedule", "cosine", Set.of("warmup", "min_lr"));
                yield Optional.of(new Schedule.Cosine(CallOptions.integer(r, args, "warmup", 0), CallOptions.real(r, args, "min_lr", 0, true, 10, 0)));
            }
            case "wsd" -> {
                var args = CallOptions.named(r, c, "schedule", "wsd", Set.of("warmup", "decay", "min_lr"));
                yield Optional.of(new Schedule.WarmupStableDecay(CallOptions.integer(r, args, "warmup", 0),
                        CallOptions.real(r, args, "decay", 0, true, 1, 0.2), CallOptions.real(r, args, "min_lr", 0, true, 10, 0)));
            }
            case "constant" -> {
                var args = CallOptions.named(r, c, "schedule", "constant", Set.of("warmup"));
                yield Optional.of(new Schedule.Constant(CallOptions.integer(r, args, "warmup", 0)));
            }
            default -> {
                r.diagnostics().error(c.calleePos(), "unknown schedule '" + c.callee() + "'",
                        Suggestions.nearest(c.callee(), List.of("cosine", "wsd", "constant")).map(s -> "did you mean '" + s + "'?")
                                .orElse("expected cosine(...), wsd(...) or constant(...)"));
                yield Optional.empty();
            }
        };
    }
}

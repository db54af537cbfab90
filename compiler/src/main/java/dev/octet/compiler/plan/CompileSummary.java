package dev.octet.compiler.plan;

import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.StepShape;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The human summary of a compiled step: kernels, what was fused, memory per phase, FLOPs. */
public final class CompileSummary {
    private CompileSummary() {}

    public static String of(StepPlan plan) {
        StepShape s = plan.kernels().fused().graph().shape();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "step of %s with recipe %s: %d x %d tokens per micro-batch, %d micro-batch%s per step%n",
                s.model(), s.recipe(), s.batch(), s.seq(), s.accumulation(), s.accumulation() == 1 ? "" : "es"));
        sb.append(String.format(Locale.ROOT, "  kernels: %d launches of %d distinct kernels (forward %d, backward %d, optimizer %d)%n",
                plan.kernels().launches().size(), plan.distinctKernels().size(), plan.launches(Phase.FORWARD).size(),
                plan.launches(Phase.BACKWARD).size(), plan.launches(Phase.OPTIMIZER).size()));
        sb.append(launchesPerLayer(plan));
        Map<String, Integer> fused = new TreeMap<>();
        int quantizations = 0;
        int fromMasters = 0;
        int oncePerStep = 0;
        int fp8Gemms = 0;
        int bf16Gemms = 0;
        Operator.LmHeadCrossEntropy head = null;
        for (FusionGroup g : plan.kernels().fused().groups()) {
            if (g.nodes().size() > 1) {
                fused.merge(g.pattern(), 1, Integer::sum);
            }
            for (Node n : g.nodes()) {
                switch (n.op()) {
                    case Operator.Quantize q -> {
                        quantizations++;
                        fromMasters += q.source() == QuantizedSource.MASTER ? 1 : 0;
                        oncePerStep += n.writesWeightCodes() ? 1 : 0;
                    }
                    case Operator.MatMul mm when mm.fp8().isPresent() -> fp8Gemms++;
                    case Operator.MatMul mm -> bf16Gemms++;
                    case Operator.LmHeadCrossEntropy h -> {
                        bf16Gemms += 3; // fprop, dgrad, wgrad, each launched once per chunk
                        head = h;
                    }
                    default -> {}
                }
            }
        }
        sb.append(String.format(Locale.ROOT, "  GEMMs: %d in FP8 (%d operand quantizations), %d in BF16%n", fp8Gemms,
                quantizations, bf16Gemms));
        long withoutCopy = plan.kernels().fused().graph().parameters().stream().filter(p -> p.shadow().isEmpty()).count();
        if (fromMasters > 0 || oncePerStep > 0) {
            sb.append(String.format(Locale.ROOT, "  weights: %d quantizations read FP32 masters (%d weights keep no BF16 working"
                    + " copy); %s%n", fromMasters, withoutCopy, oncePerStep > 0
                    ? oncePerStep + " run once per step, after the update, their codes kept for the micro-batches"
                    : s.accumulation() == 1 ? "quantized where forward and backward read them" : "quantized in every micro-batch"));
        }
        StringBuilder f = new StringBuilder();
        fused.forEach((pattern, count) -> f.append(f.isEmpty() ? "" : ", ").append(count).append(" x ").append(pattern));
        sb.append("  fused: ").append(f.isEmpty() ? "nothing" : f).append('\n');
        if (head != null) {
            sb.append(String.format(Locale.ROOT, "  LM head + loss: %d tokens in %d chunk%s of %d (logits workspace %s; the whole"
                            + " micro-batch's logits would take %s)%n", head.tokens(), head.chunks(),
                    head.chunks() == 1 ? "" : "s", head.chunk(), mib(2L * head.chunk() * head.logitsPitch()),
                    mib(2L * head.tokens() * head.vocab())));
        }
        MemoryPlan m = plan.memory();
        sb.append(String.format(Locale.ROOT, "  memory: persistent %s; peak forward %s, backward %s, optimizer %s; arena %s (transients without reuse: %s)%n",
                mib(m.persistentBytes()), mib(m.peakBytes().getOrDefault(Phase.FORWARD, 0L)),
                mib(m.peakBytes().getOrDefault(Phase.BACKWARD, 0L)), mib(m.peakBytes().getOrDefault(Phase.OPTIMIZER, 0L)),
                mib(m.arenaBytes()), mib(m.transientBytesWithoutReuse())));
        sb.append("  device memory: ").append(DeviceMemoryPlan.of(plan).describe()).append('\n');
        sb.append(String.format(Locale.ROOT, "  FLOPs per step: %.3g (%.3g per token)%n", plan.flopsPerStep(),
                plan.flopsPerStep() / ((double) s.tokens() * s.accumulation())));
        return sb.toString();
    }

    /**
     * How many launches each transformer layer takes, forward and backward ({@link LaunchCost#layer}), and how
     * many run outside the layers: the figure kernel fusion moves.
     */
    static String launchesPerLayer(StepPlan plan) {
        Map<Integer, int[]> byLayer = new TreeMap<>();  // forward, backward
        int outside = 0;
        for (LaunchCost c : LaunchCost.of(plan)) {
            Phase phase = c.launch().phase();
            if (c.layer() < 0 || phase == Phase.OPTIMIZER) {
                outside++;
            } else {
                byLayer.computeIfAbsent(c.layer(), l -> new int[2])[phase == Phase.FORWARD ? 0 : 1]++;
            }
        }
        if (byLayer.isEmpty()) {
            return String.format(Locale.ROOT, "  per layer: no launch belongs to a layer (%d outside)%n", outside);
        }
        int[] forward = byLayer.values().stream().mapToInt(n -> n[0]).sorted().toArray();
        int[] backward = byLayer.values().stream().mapToInt(n -> n[1]).sorted().toArray();
        return String.format(Locale.ROOT, "  per layer: %s launches forward and %s backward in each of %d layers; %d outside"
                        + " the layers (embedding, LM head and loss, optimizer)%n", range(forward), range(backward),
                byLayer.size(), outside);
    }

    private static String range(int[] sorted) {
        int lo = sorted[0], hi = sorted[sorted.length - 1];
        return lo == hi ? Integer.toString(lo) : lo + "-" + hi;
    }

    /**
     * The memory effect of activation recomputation: peaks of the plan that recomputes against the plan that
     * keeps every activation, and the launches recomputation adds.
     */
    public static String recomputeEffect(StepPlan recomputing, StepPlan keeping) {
        MemoryPlan r = recomputing.memory();
        MemoryPlan k = keeping.memory();
        return String.format(Locale.ROOT,
                "  recompute [norm, activation]: peak forward %s -> %s, backward %s -> %s, at %d more launches%n",
                mib(k.peakBytes().getOrDefault(Phase.FORWARD, 0L)), mib(r.peakBytes().getOrDefault(Phase.FORWARD, 0L)),
                mib(k.peakBytes().getOrDefault(Phase.BACKWARD, 0L)), mib(r.peakBytes().getOrDefault(Phase.BACKWARD, 0L)),
                recomputing.kernels().launches().size() - keeping.kernels().launches().size());
    }

    public static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}

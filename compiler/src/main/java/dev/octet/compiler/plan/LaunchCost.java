package dev.octet.compiler.plan;

import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.attention.AttentionBackwardDelta;
import dev.octet.compiler.cuda.attention.DecodeAttention;
import dev.octet.compiler.cuda.attention.DecodeAttentionCombine;
import dev.octet.compiler.cuda.attention.DecodeAttentionSplit;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardKeyValue;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardKeyValueHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardQuery;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardQueryHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionForward;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper;
import dev.octet.compiler.cuda.gemm.GemmKernel;
import dev.octet.compiler.cuda.gemm.SplitKReduce;
import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one launch of a plan is for and what it costs, known before it runs: its family, the transformer layer
 * it belongs to (-1 outside the repeated block), its useful FLOPs (GEMMs and attention, as their benchmarks
 * count them) and the bytes of the buffers it reads and writes (whole buffers: an upper bound for a launch
 * that reads a chunk of one). A measured time turns these into the rates a
 * profile reports.
 */
public record LaunchCost(Launch launch, KernelFamily family, int layer, double flops, long bytes) {
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)layers\\.(\\d+)\\.");

    /** One per launch of {@code plan}, in launch order. */
    public static List<LaunchCost> of(StepPlan plan) {
        Map<Integer, FusionGroup> groups = new HashMap<>();
        plan.kernels().fused().groups().forEach(g -> groups.put(g.id(), g));
        List<LaunchCost> out = new ArrayList<>();
        for (Launch l : plan.kernels().launches()) {
            Optional<FusionGroup> group = Optional.ofNullable(groups.get(l.group()));
            out.add(new LaunchCost(l, family(l, group), layer(l, group), flops(l.spec()), bytes(l)));
        }
        return out;
    }

    private static KernelFamily family(Launch l, Optional<FusionGroup> group) {
        if (l.phase() == Phase.OPTIMIZER) {
            return KernelFamily.OPTIMIZER;
        }
        KernelSpec spec = l.spec();
        if (spec instanceof GemmKernel || spec instanceof SplitKReduce) {  // a split GEMM's reduction is part of it
            return group.flatMap(LaunchCost::matMul).map(mm -> switch (mm.gemm()) {
                case FPROP -> KernelFamily.GEMM_FPROP;
                case DGRAD -> KernelFamily.GEMM_DGRAD;
                case WGRAD -> KernelFamily.GEMM_WGRAD;
            }).orElse(KernelFamily.GEMM_LM_HEAD);
        }
        if (spec instanceof FlashAttentionForward || spec instanceof FlashAttentionForwardHopper
                || spec instanceof DecodeAttention || spec instanceof DecodeAttentionSplit
                || spec instanceof DecodeAttentionCombine) {
            return KernelFamily.ATTENTION_FORWARD;
        }
        if (spec instanceof FlashAttentionBackwardKeyValue || spec instanceof FlashAttentionBackwardKeyValueHopper
                || spec instanceof FlashAttentionBackwardQuery || spec instanceof FlashAttentionBackwardQueryHopper
                || spec instanceof AttentionBackwardDelta) {
            return KernelFamily.ATTENTION_BACKWARD;
        }
        String pkg = spec.getClass().getPackageName();
        return switch (pkg.substring(pkg.lastIndexOf('.') + 1)) {
            case "quant" -> KernelFamily.QUANTIZE;
            case "norm" -> KernelFamily.NORM;
            case "loss" -> KernelFamily.LOSS;
            case "optim" -> KernelFamily.OPTIMIZER;
            default -> KernelFamily.ELEMENTWISE;  // pointwise, embedding, RoPE, positions
        };
    }

    private static Optional<Operator.MatMul> matMul(FusionGroup g) {
        for (Node n : g.nodes()) {
            if (n.op() instanceof Operator.MatMul mm) {
                return Optional.of(mm);
            }
        }
        return Optional.empty();
    }

    /**
     * The layer the launch's GEMM belongs to, else that of the first buffer it writes under {@code layers.N.}; none (-1)
     * for an optimizer launch over several layers' buffers (a multi-tensor launch).
     */
    private static int layer(Launch l, Optional<FusionGroup> group) {
        Optional<String> linear = group.flatMap(LaunchCost::matMul).map(Operator.MatMul::linear);
        List<String> names = new ArrayList<>();
        linear.ifPresent(names::add);
        l.writes().forEach(v -> names.add(v.name()));
        Set<Integer> layers = new LinkedHashSet<>();
        for (String name : names) {
            Matcher m = LAYER.matcher(name);
            if (m.find()) {
                layers.add(Integer.parseInt(m.group(1)));
            }
        }
        if (layers.isEmpty() || (l.phase() == Phase.OPTIMIZER && layers.size() > 1)) {
            return -1;
        }
        return layers.iterator().next();
    }

    /**
     * GEMMs: 2·M·N·K; attention: the causal forward's count, 2.5 times it for the backward (given to its dk, dv
     * kernel, the delta and dq kernels count none, so the family's rate is FlashAttention's); else 0.
     */
    private static double flops(KernelSpec spec) {
        return switch (spec) {
            case GemmKernel g -> g.problem().flops();
            case FlashAttentionForward a -> a.shape().forwardFlops();
            case FlashAttentionForwardHopper a -> a.shape().forwardFlops();
            case FlashAttentionBackwardKeyValue a -> 2.5 * a.shape().forwardFlops();
            case FlashAttentionBackwardKeyValueHopper a -> 2.5 * a.shape().forwardFlops();
            default -> 0;
        };
    }

    /** Bytes of the distinct buffers the launch reads or writes, each counted once. */
    private static long bytes(Launch l) {
        Set<Value> touched = new LinkedHashSet<>(l.reads());
        touched.addAll(l.writes());
        return touched.stream().mapToLong(v -> v.type().bytes()).sum();
    }
}

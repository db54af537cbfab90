package dev.octet.compiler.plan;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.passes.WeightsQuantizedAtLoad;
import dev.octet.compiler.passes.WeightsQuantizedPerStep;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compiled training step: the launches, where every buffer lives, and the interface the runtime drives it
 * through. What the runtime executes (one CUDA graph per step on the GPU; the plan executor on the CPU) and what
 * the emitters write out.
 */
public record StepPlan(KernelPlan kernels, MemoryPlan memory, double flopsPerStep, StepInterface stepInterface) {
    /** The distinct kernels, by name, in order of first launch; one name is always one source. */
    public Map<String, CudaKernel> distinctKernels() {
        Map<String, CudaKernel> out = new LinkedHashMap<>();
        for (Launch l : kernels.launches()) {
            CudaKernel previous = out.putIfAbsent(l.kernel().name(), l.kernel());
            if (previous != null && !previous.source().equals(l.kernel().source())) {
                throw new IllegalStateException("two different kernels are both named " + l.kernel().name());
            }
        }
        return out;
    }

    public List<Launch> launches(Phase phase) {
        return kernels.launches().stream().filter(l -> l.phase() == phase).toList();
    }

    /**
     * The launches that quantize weights into persistent codes (their groups' every node writes weight codes:
     * {@link WeightsQuantizedPerStep}, {@link WeightsQuantizedAtLoad}): what a runtime runs again whenever the
     * weights change outside the plan, after loading them.
     */
    public List<Launch> weightQuantization() {
        Set<Integer> groups = new HashSet<>();
        for (FusionGroup g : kernels.fused().groups()) {
            if (g.writesWeightCodesOnly()) {
                groups.add(g.id());
            }
        }
        return kernels.launches().stream().filter(l -> groups.contains(l.group())).toList();
    }
}

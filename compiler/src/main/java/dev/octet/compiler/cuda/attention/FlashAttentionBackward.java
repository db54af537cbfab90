package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelSpec;
import java.util.List;

/**
 * The attention backward as the runtime launches it: {@link AttentionBackwardDelta} (delta = rowsum(dout∘o)),
 * then a dk, dv kernel and a dq kernel, which only read delta and may run in either order. No atomics: every output row is written once by one block, so the result is deterministic. The one
 * scratch buffer, delta (f32[batch, heads, seq]), lives from the first kernel to the last.
 *
 * <p>dk, dv: {@link FlashAttentionBackwardKeyValue} (mma.sync) unless {@code hopperKeyValue}, then
 * {@link FlashAttentionBackwardKeyValueHopper}; dq: {@link FlashAttentionBackwardQuery} unless
 * {@code hopperQuery}, then {@link FlashAttentionBackwardQueryHopper} (wgmma + TMA; their q, k, v, dout are
 * tensor maps over the same buffers). {@link AttentionKernels#backward} makes that choice.
 */
public record FlashAttentionBackward(AttentionShape shape, boolean hopperKeyValue, boolean hopperQuery) {
    public FlashAttentionBackward {
        if (hopperKeyValue && !FlashAttentionBackwardKeyValueHopper.supports(shape)) {
            throw new IllegalArgumentException("FlashAttentionBackwardKeyValueHopper cannot run " + shape.suffix());
        }
        if (hopperQuery && !FlashAttentionBackwardQueryHopper.supports(shape)) {
            throw new IllegalArgumentException("FlashAttentionBackwardQueryHopper cannot run " + shape.suffix());
        }
    }

    /** Every kernel on mma.sync. */
    public FlashAttentionBackward(AttentionShape shape) {
        this(shape, false, false);
    }

    public AttentionBackwardDelta delta() {
        return new AttentionBackwardDelta(shape);
    }

    public KernelSpec keyValue() {
        return hopperKeyValue ? FlashAttentionBackwardKeyValueHopper.of(shape) : new FlashAttentionBackwardKeyValue(shape);
    }

    public KernelSpec query() {
        return hopperQuery ? FlashAttentionBackwardQueryHopper.of(shape) : new FlashAttentionBackwardQuery(shape);
    }

    /** The kernels in launch order. */
    public List<KernelSpec> specs() {
        return List.of(delta(), keyValue(), query());
    }

    public List<CudaKernel> kernels() {
        return specs().stream().map(KernelSpec::emit).toList();
    }

    /** Buffers the planner allocates for the duration of the backward only. */
    public List<ScratchBuffer> scratch() {
        return List.of(delta().delta());
    }
}

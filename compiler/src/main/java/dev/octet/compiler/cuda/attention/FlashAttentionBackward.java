package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelSpec;
import java.util.List;

/**
 * The attention backward as the runtime launches it: {@link AttentionBackwardDelta} (delta = rowsum(dout∘o)),
 * then {@link FlashAttentionBackwardKeyValue} (dk, dv) and {@link FlashAttentionBackwardQuery} (dq), which only
 * read delta and may run in either order. No atomics: every output row is written once by one block, so the
 * result is deterministic. The one scratch buffer, delta (f32[batch, heads, seq]), lives from the first kernel
 * to the last.
 */
public record FlashAttentionBackward(AttentionShape shape) {
    public AttentionBackwardDelta delta() {
        return new AttentionBackwardDelta(shape);
    }

    public FlashAttentionBackwardKeyValue keyValue() {
        return new FlashAttentionBackwardKeyValue(shape);
    }

    public FlashAttentionBackwardQuery query() {
        return new FlashAttentionBackwardQuery(shape);
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

package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.KernelSpec;

/**
 * The one place that picks the attention forward kernel for a shape. Both candidates take the same parameters
 * ({@code q, k, v, [document_ids], o, lse}, bound by name) and write the same outputs, so the backward kernels
 * and the runtime do not care which one ran: Hopper's wgmma + TMA kernel ({@link FlashAttentionForwardHopper})
 * wherever it fits, the mma.sync kernel ({@link FlashAttentionForward}) otherwise.
 *
 * <p>The backward: the wgmma kernels ({@link FlashAttentionBackwardKeyValueHopper},
 * {@link FlashAttentionBackwardQueryHopper}) wherever they fit, which the training step asks for, and the
 * mma.sync ones otherwise or when asked (the benchmarks' comparison).
 */
public final class AttentionKernels {
    private AttentionKernels() {}

    public static KernelSpec forward(AttentionShape shape) {
        return FlashAttentionForwardHopper.supports(shape) ? FlashAttentionForwardHopper.of(shape) : new FlashAttentionForward(shape);
    }

    /** The backward; with {@code hopper}, dk, dv and dq by wgmma + TMA wherever those kernels fit. */
    public static FlashAttentionBackward backward(AttentionShape shape, boolean hopper) {
        return new FlashAttentionBackward(shape, hopper && FlashAttentionBackwardKeyValueHopper.supports(shape),
                hopper && FlashAttentionBackwardQueryHopper.supports(shape));
    }
}

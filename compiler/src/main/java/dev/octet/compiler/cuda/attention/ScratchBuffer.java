package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.KernelParam;

/**
 * A buffer that lives only between the kernels of one op (written by one, read by the next): the memory
 * planner allocates {@link #bytes()} for it. {@code param} names it as the kernels' parameters do.
 */
public record ScratchBuffer(KernelParam param, long elements) {
    public ScratchBuffer {
        if (param.kind() != KernelParam.Kind.BUFFER || elements < 1) {
            throw new IllegalArgumentException("a scratch buffer is a buffer of at least one element: " + param);
        }
    }

    public long bytes() {
        return elements * param.dtype().bytes();
    }
}

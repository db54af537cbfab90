package dev.octet.compiler.cuda;

import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A kernel whose launches over separate buffers can run as one launch over all of them (the optimizer's per-parameter
 * kernels: a launch over a 768-element bias costs more than its work). The batched kernel computes, per member, what
 * the member's own launch computes, so batching changes no result.
 */
public interface MultiTensorKernel extends KernelSpec {
    /** What launches must have in common to run as one: the spec without its sizes. */
    Object batchKey();

    /** The parameters each member binds to its own buffers; the others are bound alike by every member. */
    Set<String> memberParams();

    /**
     * Elements the kernel writes from its argument for {@code param} on, when that is less than the rest of the bound
     * buffer (a slot range of a shared scratch buffer); empty: the rest of the buffer.
     */
    default OptionalLong writtenElements(String param) {
        return OptionalLong.empty();
    }

    /**
     * One kernel over {@code members} (specs with this one's {@link #batchKey}), in order. Its parameters are every
     * member's {@link #memberParams} named {@code NAME_i} for member i, then the shared ones by their own names.
     */
    KernelSpec batch(List<? extends MultiTensorKernel> members);

    /** The batched kernel's name of member {@code i}'s parameter {@code name}. */
    static String memberParam(String name, int i) {
        return name + "_" + i;
    }
}

package dev.octet.compiler.cuda.optim;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.MultiTensorKernel;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link GradSquareSum} over several gradient buffers in one launch: member i's blocks are those of its own launch,
 * after the blocks of the members before it, and write the same partial sums to the same slots ({@code partials_i},
 * bound at the member's slot range), so the norm keeps its bits. Kernel parameters {@code grad_i, partials_i} per
 * member.
 */
public record GradSquareSums(List<Integer> elements) implements KernelSpec {

    public GradSquareSums {
        elements = List.copyOf(elements);
        if (elements.size() < 2) {
            throw new IllegalArgumentException("a batched square sum runs two buffers or more, not " + elements.size());
        }
        elements.forEach(GradSquareSum::new);
    }

    @Override
    public String kernelName() {
        long total = elements.stream().mapToLong(Integer::longValue).sum();
        return "grad_square_sum_" + elements.size() + "_buffers_" + total + "_h" + Integer.toHexString(elements.hashCode());
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = new ArrayList<>();
        StringBuilder cases = new StringBuilder();
        List<Integer> blocks = new ArrayList<>();
        for (int i = 0; i < elements.size(); i++) {
            String g = MultiTensorKernel.memberParam("grad", i), p = MultiTensorKernel.memberParam("partials", i);
            params.add(KernelParam.in(g, DType.F32));
            params.add(KernelParam.out(p, DType.F32));
            blocks.add(new GradSquareSum(elements.get(i)).partialCount());
            cases.append("        case %d: grad = %s; partials = %s; n = %d; blocks = %d; break;%n"
                    .formatted(i, g, p, elements.get(i), blocks.getLast()));
        }
        MemberBlocks grid = new MemberBlocks(blocks);
        String body = GradSquareSum.deviceFunctions() + """

                %s
                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    const int member = member_of(blockIdx.x);
                    const float* grad = nullptr;
                    float* partials = nullptr;
                    int n = 0, blocks = 0;
                    switch (member) {
                %s    }
                    const int block = (int) blockIdx.x - FIRST_BLOCK[member];
                    square_sum(grad, n, blocks, block, partials + block);
                }
                """.formatted(grid.source(), kernelName(), CudaKernel.signature(params), cases);
        String description = "Gradient norm, first level, over " + elements.size() + " buffers " + elements
                + " in one launch: each member's partial sums as GradSquareSum writes them, into its own slot range.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(grid.total(), GradSquareSum.THREADS, 0), params);
    }
}

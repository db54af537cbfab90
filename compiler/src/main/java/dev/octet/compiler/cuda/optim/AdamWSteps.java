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
import java.util.Objects;

/**
 * {@link AdamWStep} over several parameter buffers in one launch: member i's blocks are those its own launch would
 * have, placed after the blocks of the members before it, and each runs the single kernel's per-thread update on its
 * member's buffers, so every member's bits are those of its own launch. A block finds its member by a binary search of
 * the first blocks; the member's buffers are the kernel parameters {@code param_i, grad_i, m_i, v_i [, param_bf16_i]},
 * then {@code scalars}, shared.
 */
public record AdamWSteps(List<Integer> elements, AdamWHyperparameters hyper, boolean decay, DType momentType,
                         boolean bf16Shadow) implements KernelSpec {

    public AdamWSteps {
        elements = List.copyOf(elements);
        Objects.requireNonNull(hyper, "hyper");
        if (elements.size() < 2) {
            throw new IllegalArgumentException("a batched AdamW runs two buffers or more, not " + elements.size());
        }
        // Every member's own spec is valid: sizes positive, moments f32 or bf16.
        elements.forEach(n -> new AdamWStep(n, hyper, decay, momentType, bf16Shadow));
    }

    @Override
    public String kernelName() {
        long total = elements.stream().mapToLong(Integer::longValue).sum();
        return "adamw_" + elements.size() + "_buffers_" + total + "_h" + Integer.toHexString(elements.hashCode())
                + "_m" + momentType.irName() + (decay ? "_decay" : "_no_decay") + (bf16Shadow ? "_bf16_shadow" : "");
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = new ArrayList<>();
        String moment = momentType == DType.BF16 ? "bf16_t" : "float";
        StringBuilder cases = new StringBuilder();
        for (int i = 0; i < elements.size(); i++) {
            String p = MultiTensorKernel.memberParam("param", i), g = MultiTensorKernel.memberParam("grad", i);
            String m = MultiTensorKernel.memberParam("m", i), v = MultiTensorKernel.memberParam("v", i);
            String s = MultiTensorKernel.memberParam("param_bf16", i);
            params.add(KernelParam.inOut(p, DType.F32));
            params.add(KernelParam.inOut(g, DType.F32));
            params.add(KernelParam.inOut(m, momentType));
            params.add(KernelParam.inOut(v, momentType));
            if (bf16Shadow) {
                params.add(KernelParam.out(s, DType.BF16));
            }
            cases.append("        case %d: param = %s; grad = %s; m = %s; v = %s; shadow = %s; n = %d; break;%n"
                    .formatted(i, p, g, m, v, bf16Shadow ? s : "nullptr", elements.get(i)));
        }
        MemberBlocks grid = new MemberBlocks(elements.stream().map(AdamWStep::blocks).toList());
        params.add(KernelParam.in("scalars", DType.F32));
        String body = AdamWStep.deviceFunctions(hyper, decay) + """

                %s
                extern "C" __global__ void __launch_bounds__(THREADS) %s%s {
                    if (scalars[SKIP] != 0.0f) return;
                    const int member = member_of(blockIdx.x);
                    float* param = nullptr;
                    float* grad = nullptr;
                    %s* m = nullptr;
                    %s* v = nullptr;
                    bf16_t* shadow = nullptr;
                    int n = 0;
                    switch (member) {
                %s    }
                    adamw_span<%b>(param, grad, m, v, shadow, n, ((int) blockIdx.x - FIRST_BLOCK[member]) * THREADS + threadIdx.x,
                                   scalars);
                }
                """.formatted(grid.source(), kernelName(), CudaKernel.signature(params), moment, moment, cases, bf16Shadow);
        String description = "AdamW steps over " + elements.size() + " f32 buffers " + elements + " in one launch, each as its own\n"
                + "AdamWStep launch updates it: moments " + momentType.irName() + ", beta1 "
                + hyper.beta1() + ", beta2 " + hyper.beta2() + ", eps " + hyper.eps() + ", weight decay "
                + (decay ? hyper.weightDecay() : 0.0) + (bf16Shadow ? ", bf16 shadows of the weights" : "")
                + ".\nscalars f32[" + AdamWScalarSlot.count() + "]: lr, 1-beta1^t, 1-beta2^t, clip factor, skip."
                + " Oracle: dev.octet.cpu.ops.AdamW.step per buffer; grads zeroed afterwards.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body),
                LaunchGeometry.linear(grid.total(), AdamWStep.THREADS, 0), params);
    }
}

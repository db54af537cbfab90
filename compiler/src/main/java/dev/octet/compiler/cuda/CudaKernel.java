package dev.octet.compiler.cuda;

import java.util.List;

/**
 * A generated kernel: a self-contained CUDA C++ source for sm_90a with one {@code extern "C" __global__}
 * entry point named {@code name}, the parameters of that entry point in order, and its launch geometry.
 */
public record CudaKernel(String name, String source, LaunchGeometry launch, List<KernelParam> params) {
    public CudaKernel {
        params = List.copyOf(params);
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("kernel names are lower_snake_case identifiers: " + name);
        }
        if (!source.contains("extern \"C\" __global__") || !source.contains(" " + name + "(")) {
            throw new IllegalArgumentException("source of " + name + " has no extern \"C\" __global__ " + name);
        }
    }

    /** {@code (const bf16_t* __restrict__ x, float* __restrict__ y, ...)} for the entry point. */
    public static String signature(List<KernelParam> params) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < params.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(params.get(i).cudaDeclaration());
        }
        return sb.append(')').toString();
    }
}

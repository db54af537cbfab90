package dev.octet.compiler.cuda.pointwise;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.VectorAccess;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The template behind the pointwise kernels: BF16 tensors {@code [rows, cols]} in, BF16 tensors out, one
 * {@code element(inputs..., float& outputs...)} device function applied in FP32 to every element, each output
 * rounded once to BF16. A name listed as both input and output is one buffer updated in place. The first
 * output may also be quantized ({@link GroupQuantization}) from its BF16-rounded values.
 *
 * <p>Buffers in signature order: the outputs (the first one followed by its codes and scales when quantized;
 * its BF16 buffer left out when {@code writeBf16} is false), then the inputs that are not outputs.
 */
record ElementwiseKernel(String name, String description, int rows, int cols, List<String> inputs,
                         List<String> outputs, String elementFunction, Optional<GroupQuantization> quantization,
                         boolean writeBf16) {
    static final int THREADS = 256;

    ElementwiseKernel {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException(name + ": shape must be positive: " + rows + "x" + cols);
        }
        if (quantization.isEmpty() && !writeBf16) {
            throw new IllegalArgumentException(name + ": writes nothing (no BF16 output and no quantized output)");
        }
        String kernel = name;
        quantization.ifPresent(q -> q.widestVectorsFor(cols, kernel));
        if ((long) rows * cols / 32 / THREADS >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " needs more blocks than a grid holds");
        }
    }

    private VectorAccess vectors() {
        return quantization.map(q -> q.widestVectorsFor(cols, name)).orElseGet(() -> VectorAccess.widestDividing(cols));
    }

    private int step() {
        VectorAccess v = vectors();
        return quantization.map(q -> q.step(v)).orElse(32 * v.width());
    }

    private long elements() {
        return (long) rows * cols;
    }

    private List<KernelParam> params() {
        List<KernelParam> params = new ArrayList<>();
        for (int o = 0; o < outputs.size(); o++) {
            String out = outputs.get(o);
            boolean inPlace = inputs.contains(out);
            if (o > 0 || writeBf16) {
                params.add(inPlace ? KernelParam.inOut(out, DType.BF16) : KernelParam.out(out, DType.BF16));
            }
            if (o == 0 && quantization.isPresent()) {
                params.add(KernelParam.out(out + "_codes", quantization.get().codeType()));
                params.add(KernelParam.out(out + "_scales", DType.F32));
            }
        }
        inputs.stream().filter(in -> !outputs.contains(in)).forEach(in -> params.add(KernelParam.in(in, DType.BF16)));
        return params;
    }

    CudaKernel emit() {
        VectorAccess v = vectors();
        long steps = Math.ceilDiv(elements(), step());
        long blocks = Math.ceilDiv(steps * 32, THREADS);
        boolean quantized = quantization.isPresent();
        StringBuilder body = new StringBuilder();
        body.append(v.source()).append('\n');
        quantization.ifPresent(q -> body.append(q.source(v)).append('\n'));
        body.append("#define STEP ").append(step()).append('\n')
                .append("constexpr long long ELEMENTS = ").append(elements()).append("LL;\n")
                .append("constexpr long long STEPS = ").append(steps).append("LL;\n\n")
                .append(elementFunction.strip()).append("\n\n");
        List<KernelParam> params = params();
        body.append("extern \"C\" __global__ void __launch_bounds__(").append(THREADS).append(") ").append(name)
                .append(CudaKernel.signature(params)).append(" {\n")
                .append("    const int lane = threadIdx.x & 31;\n")
                .append("    // One warp per step of STEP consecutive elements; whole warps leave together.\n")
                .append("    const long long step = ((long long) blockIdx.x * blockDim.x + threadIdx.x) >> 5;\n")
                .append("    if (step >= STEPS) return;\n")
                .append("    const long long base = step * STEP;\n");
        if (quantized) {
            body.append("    float held[STEP / 32];\n");
        }
        body.append("    #pragma unroll\n")
                .append("    for (int j = 0; j < STEP / (32 * VEC); j++) {\n")
                .append("        const long long i = base + j * 32 * VEC + lane * VEC;\n");
        if (!quantized) {
            body.append("        if (i >= ELEMENTS) break;\n");
        }
        for (int k = 0; k < inputs.size(); k++) {
            body.append("        float in").append(k).append("[VEC];\n")
                    .append("        load_bf16_vec(").append(inputs.get(k)).append(" + i, in").append(k).append(");\n");
        }
        List<String> args = new ArrayList<>();
        for (int k = 0; k < inputs.size(); k++) args.add("in" + k + "[k]");
        for (int k = 0; k < outputs.size(); k++) {
            body.append("        float out").append(k).append("[VEC];\n");
            args.add("out" + k + "[k]");
        }
        body.append("        #pragma unroll\n")
                .append("        for (int k = 0; k < VEC; k++) element(").append(String.join(", ", args)).append(");\n");
        for (int k = 0; k < outputs.size(); k++) {
            if (k > 0 || writeBf16) {
                body.append("        store_bf16_vec(").append(outputs.get(k)).append(" + i, out").append(k).append(");\n");
            }
        }
        if (quantized) {
            body.append("        #pragma unroll\n")
                    .append("        for (int k = 0; k < VEC; k++) held[j * VEC + k] = bf16_round(out0[k]);\n");
        }
        body.append("    }\n");
        if (quantized) {
            String out = outputs.getFirst();
            body.append("    quantize_step(held, ").append(out).append("_codes + base, ").append(out)
                    .append("_scales + base / QUANT_GROUP, lane);\n");
        }
        body.append("}\n");
        String header = description + "\nShape " + rows + "x" + cols + ", " + v.width() + " elements per vector access.";
        return new CudaKernel(name, CudaPrelude.kernelSource(header, body.toString()),
                LaunchGeometry.linear((int) blocks, THREADS, 0), params);
    }

    /** {@code 4096x8960}: the shape part of kernel names. */
    static String shapeName(int rows, int cols) {
        return rows + "x" + cols;
    }
}

package dev.octet.compiler.cuda.norm;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.VectorAccess;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * RMSNorm or LayerNorm forward over rows of {@code dim} BF16 values, one warp per row with the row held in
 * registers ({@code dim / 32} floats per lane), statistics in FP32.
 *
 * <p>Options: {@code addResidual} first forms the new residual stream {@code s = bf16(residual + branch)},
 * writes it, and normalizes {@code s}; {@code quantizedOutput} also writes y as FP8 codes with group scales
 * along dim, computed from the BF16-rounded y; {@code writeBf16Output = false} leaves the BF16 y out.
 *
 * <p>Buffers in order: {@code y} bf16[rows, dim] (if written), {@code y_codes} fp8[rows, dim] and
 * {@code y_scales} f32[rows, dim / g] (if quantized), {@code residual_out} bf16[rows, dim] (if addResidual),
 * {@code mean} f32[rows] (LayerNorm), {@code rstd} f32[rows]; then {@code x} bf16[rows, dim], or
 * {@code residual} and {@code branch} bf16[rows, dim] when addResidual; {@code weight} bf16[dim];
 * {@code bias} bf16[dim] (LayerNorm), the BF16 working copies every kernel reads. Outputs never alias inputs.
 */
public record NormForward(NormKind kind, int rows, int dim, float eps, boolean addResidual,
                          Optional<GroupQuantization> quantizedOutput, boolean writeBf16Output) implements KernelSpec {
    /** Rows in registers: {@code dim / 32} floats per lane, so 4096 gives 128. */
    public static final int MAX_DIM = 4096;
    static final int ROWS_PER_BLOCK = 4;

    public NormForward {
        String what = kind.kernelPrefix() + " forward";
        if (rows < 1 || dim < 1) {
            throw new IllegalArgumentException(what + ": shape must be positive: " + rows + "x" + dim);
        }
        if (dim % 32 != 0 || dim > MAX_DIM) {
            throw new IllegalArgumentException(what + ": dim " + dim + " must be a multiple of 32 and at most "
                    + MAX_DIM + " (one warp holds the row in registers)");
        }
        if (!(eps > 0) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException(what + ": eps must be positive and finite: " + eps);
        }
        if (quantizedOutput.isEmpty() && !writeBf16Output) {
            throw new IllegalArgumentException(what + ": writes no output (no BF16 y and no quantized y)");
        }
        vectors(dim, quantizedOutput, what);
    }

    public static NormForward rms(int rows, int dim, float eps) {
        return new NormForward(NormKind.RMS, rows, dim, eps, false, Optional.empty(), true);
    }

    public static NormForward layer(int rows, int dim, float eps) {
        return new NormForward(NormKind.LAYER, rows, dim, eps, false, Optional.empty(), true);
    }

    public NormForward withResidualAdd() {
        return new NormForward(kind, rows, dim, eps, true, quantizedOutput, writeBf16Output);
    }

    public NormForward withQuantizedOutput(GroupQuantization quantization, boolean alsoWriteBf16) {
        return new NormForward(kind, rows, dim, eps, addResidual, Optional.of(quantization), alsoWriteBf16);
    }

    @Override
    public String kernelName() {
        // eps by its bits: two specs that differ only in eps must not share a name.
        return kind.kernelPrefix() + "_forward_" + rows + "x" + dim + "_eps" + Integer.toHexString(Float.floatToIntBits(eps))
                + (addResidual ? "_residual" : "")
                + (writeBf16Output ? "" : "_nobf16") + GroupQuantization.nameSuffix(quantizedOutput);
    }

    private static VectorAccess vectors(int dim, Optional<GroupQuantization> quantization, String what) {
        return quantization.map(q -> q.widestVectorsFor(dim, what)).orElseGet(() -> new VectorAccess(
                IntStream.of(8, 4, 2, 1).filter(v -> dim % (32 * v) == 0).findFirst().orElseThrow()));
    }

    private List<KernelParam> params() {
        List<KernelParam> p = new ArrayList<>();
        if (writeBf16Output) p.add(KernelParam.out("y", DType.BF16));
        quantizedOutput.ifPresent(q -> {
            p.add(KernelParam.out("y_codes", q.codeType()));
            p.add(KernelParam.out("y_scales", DType.F32));
        });
        if (addResidual) p.add(KernelParam.out("residual_out", DType.BF16));
        if (kind == NormKind.LAYER) p.add(KernelParam.out("mean", DType.F32));
        p.add(KernelParam.out("rstd", DType.F32));
        if (addResidual) {
            p.add(KernelParam.in("residual", DType.BF16));
            p.add(KernelParam.in("branch", DType.BF16));
        } else {
            p.add(KernelParam.in("x", DType.BF16));
        }
        p.add(KernelParam.in("weight", DType.BF16));
        if (kind == NormKind.LAYER) p.add(KernelParam.in("bias", DType.BF16));
        return p;
    }

    /**
     * One normalized element before its BF16 rounding, the expression both the norm kernel and a wgrad operand's
     * recomputation from the saved statistics evaluate (so they round the same float).
     */
    public static final String NORMALIZED = """
            __device__ __forceinline__ float rms_normalized(float x, float rstd, float w) {
                return x * rstd * w;
            }
            __device__ __forceinline__ float layer_normalized(float x, float mean, float rstd, float w, float b) {
                return (x - mean) * rstd * w + b;
            }
            """;

    @Override
    public CudaKernel emit() {
        VectorAccess v = vectors(dim, quantizedOutput, kernelName());
        boolean layer = kind == NormKind.LAYER;
        StringBuilder b = new StringBuilder(v.source()).append('\n').append(NORMALIZED);
        quantizedOutput.ifPresent(q -> b.append(q.source(v)).append('\n'));
        b.append("#define ROWS ").append(rows).append('\n')
                .append("#define DIM ").append(dim).append('\n')
                .append("#define PER_LANE (DIM / 32)\n")
                .append("#define ROWS_PER_BLOCK ").append(ROWS_PER_BLOCK).append('\n')
                .append("#define EPS ").append(CudaLiteral.f32(eps)).append("\n\n")
                // Minimum blocks 1: ptxas gets the whole register file (up to 255 per thread) rather than picking
                // its own occupancy target, under which rows of 1536 spilled a few values of the row.
                .append("extern \"C\" __global__ void __launch_bounds__(32 * ROWS_PER_BLOCK, 1) ").append(kernelName())
                .append(CudaKernel.signature(params())).append(" {\n")
                .append("""
                            const int lane = threadIdx.x & 31;
                            const int row = blockIdx.x * ROWS_PER_BLOCK + (threadIdx.x >> 5);
                            if (row >= ROWS) return;
                            const size_t base = (size_t) row * DIM;
                            // Lane l holds vectors j * 32 * VEC + l * VEC of the row, at v[j * VEC].
                            float v[PER_LANE];
                            #pragma unroll
                            for (int j = 0; j < PER_LANE / VEC; j++) {
                                const int c = j * 32 * VEC + lane * VEC;
                        """);
        if (addResidual) {
            b.append("""
                                float a[VEC], d[VEC];
                                load_bf16_vec(residual + base + c, a);
                                load_bf16_vec(branch + base + c, d);
                                #pragma unroll
                                for (int k = 0; k < VEC; k++) v[j * VEC + k] = bf16_round(a[k] + d[k]);
                                store_bf16_vec(residual_out + base + c, v + j * VEC);
                            }
                        """);
        } else {
            b.append("""
                                load_bf16_vec(x + base + c, v + j * VEC);
                            }
                        """);
        }
        if (layer) {
            b.append("""
                        float sum = 0.0f;
                        #pragma unroll
                        for (int i = 0; i < PER_LANE; i++) sum += v[i];
                        const float m = warp_sum(sum) / DIM;
                        // Two passes, as the CPU op: no cancellation when |mean| >> std.
                        float squares = 0.0f;
                        #pragma unroll
                        for (int i = 0; i < PER_LANE; i++) squares += (v[i] - m) * (v[i] - m);
                        const float r = 1.0f / sqrtf(warp_sum(squares) / DIM + EPS);
                        if (lane == 0) {
                            mean[row] = m;
                            rstd[row] = r;
                        }
                    """);
        } else {
            b.append("""
                        float squares = 0.0f;
                        #pragma unroll
                        for (int i = 0; i < PER_LANE; i++) squares += v[i] * v[i];
                        const float r = 1.0f / sqrtf(warp_sum(squares) / DIM + EPS);
                        if (lane == 0) rstd[row] = r;
                    """);
        }
        b.append("""
                    #pragma unroll
                    for (int j = 0; j < PER_LANE / VEC; j++) {
                        const int c = j * 32 * VEC + lane * VEC;
                        float w[VEC];
                        load_bf16_vec(weight + c, w);
                """);
        if (layer) {
            b.append("""
                            float bi[VEC];
                            load_bf16_vec(bias + c, bi);
                            #pragma unroll
                            for (int k = 0; k < VEC; k++) v[j * VEC + k] = bf16_round(layer_normalized(v[j * VEC + k], m, r, w[k], bi[k]));
                    """);
        } else {
            b.append("""
                            #pragma unroll
                            for (int k = 0; k < VEC; k++) v[j * VEC + k] = bf16_round(rms_normalized(v[j * VEC + k], r, w[k]));
                    """);
        }
        if (writeBf16Output) {
            b.append("        store_bf16_vec(y + base + c, v + j * VEC);\n");
        }
        b.append("    }\n");
        if (quantizedOutput.isPresent()) {
            b.append("""
                        #pragma unroll
                        for (int s = 0; s < DIM / QUANT_STEP; s++) {
                            quantize_step(v + s * (QUANT_STEP / 32), y_codes + base + s * QUANT_STEP,
                                          y_scales + (base + s * QUANT_STEP) / QUANT_GROUP, lane);
                        }
                    """);
        }
        b.append("}\n");
        String header = (layer ? "LayerNorm" : "RMSNorm") + " forward, " + rows + " rows of " + dim + ", eps "
                + eps + (addResidual ? ", residual add fused" : "")
                + quantizedOutput.map(q -> ", quantized output " + q.nameSuffix()).orElse("") + ".";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, b.toString()),
                LaunchGeometry.linear(Math.ceilDiv(rows, ROWS_PER_BLOCK), 32 * ROWS_PER_BLOCK, 0), params());
    }
}

package dev.octet.compiler.cuda.norm;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.VectorAccess;
import dev.octet.compiler.cuda.gemm.GemmTileHeuristic;
import dev.octet.compiler.cuda.pointwise.ColumnSumAccumulate;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * RMSNorm or LayerNorm backward: {@code dx} (BF16, written) and per-block partial sums of the parameter
 * gradients, deterministic without atomics. A block of {@code dim / VEC} threads walks
 * {@link #rowsPerBlock()} consecutive rows in order, each thread owning VEC columns: it computes the row's
 * dot products with a fixed-order block reduction, writes dx, and keeps its columns' {@code dw} (and
 * {@code db}) sums in registers; at the end it writes them to row {@code blockIdx.x} of the partials. The
 * second stage, {@link #gradientReduction()}, adds the {@link #partialRows()} partial rows into the FP32
 * gradient ({@code +=}), once for the weight and, for LayerNorm, once for the bias.
 *
 * <p>{@code addResidualGradient} adds the residual stream's incoming gradient to dx in FP32 before the one
 * rounding to BF16 (where the norm's input was also the residual stream).
 *
 * <p>Buffers in order: {@code dx} bf16[rows, dim]; {@code weight_grad_partials} f32[partialRows, dim];
 * {@code bias_grad_partials} f32[partialRows, dim] (LayerNorm); {@code dy} bf16[rows, dim]; {@code x}
 * bf16[rows, dim] (the forward's normalized input); {@code weight} bf16[dim]; {@code mean} f32[rows]
 * (LayerNorm); {@code rstd} f32[rows]; {@code residual_grad} bf16[rows, dim] (if addResidualGradient).
 * Every element of the partials is written, so they need no zeroing. Outputs never alias inputs.
 */
public record NormBackward(NormKind kind, int rows, int dim, boolean addResidualGradient) implements KernelSpec {
    /** Registers a thread needs at most (LayerNorm with the residual gradient, VEC 8: 112 under ptxas 12.6/13). */
    static final int REGISTERS = 112;

    public NormBackward {
        String what = kind.kernelPrefix() + " backward";
        if (rows < 1 || dim < 1) {
            throw new IllegalArgumentException(what + ": shape must be positive: " + rows + "x" + dim);
        }
        if (vectors(dim).isEmpty()) {
            throw new IllegalArgumentException(what + ": dim " + dim
                    + " must be a multiple of 32 and at most 8192 (a block of at most 1024 threads spans the row)");
        }
    }

    public static NormBackward rms(int rows, int dim) {
        return new NormBackward(NormKind.RMS, rows, dim, false);
    }

    public static NormBackward layer(int rows, int dim) {
        return new NormBackward(NormKind.LAYER, rows, dim, false);
    }

    public NormBackward withResidualGradient() {
        return new NormBackward(kind, rows, dim, true);
    }

    @Override
    public String kernelName() {
        return kind.kernelPrefix() + "_backward_" + rows + "x" + dim + (addResidualGradient ? "_residual" : "");
    }

    /**
     * Blocks one SM holds at once with {@link #REGISTERS} registers a thread, at most 3: the grid is one wave of them
     * over the H200's SMs, so that every SM keeps several blocks' loads in flight (two blocks of 192 threads an SM
     * left Qwen2.5's norm backward at ~2 TB/s), and the partial rows stay few, so the second stage is short.
     */
    int blocksPerSm() {
        return Math.max(1, Math.min(3, 65536 / (REGISTERS * (dim / vectors(dim).orElseThrow().width()))));
    }

    public int rowsPerBlock() {
        return Math.ceilDiv(rows, blocksPerSm() * GemmTileHeuristic.SM_COUNT);
    }

    /** Rows of each partial-sum scratch buffer ({@code f32[partialRows, dim]}): one per block. */
    public int partialRows() {
        return Math.ceilDiv(rows, rowsPerBlock());
    }

    /** The second stage: {@code grad[dim] += Σ partials[p, dim]}; launched per parameter (weight, bias). */
    public ColumnSumAccumulate gradientReduction() {
        return new ColumnSumAccumulate(DType.F32, partialRows(), dim);
    }

    /** The widest vectors whose threads, dim / VEC of them, make whole warps and one block. */
    private static Optional<VectorAccess> vectors(int dim) {
        return IntStream.of(8, 4, 2, 1)
                .filter(v -> dim % v == 0 && (dim / v) % 32 == 0 && dim / v <= 1024)
                .mapToObj(VectorAccess::new).findFirst();
    }

    private List<KernelParam> params() {
        List<KernelParam> p = new ArrayList<>();
        p.add(KernelParam.out("dx", DType.BF16));
        p.add(KernelParam.out("weight_grad_partials", DType.F32));
        if (kind == NormKind.LAYER) p.add(KernelParam.out("bias_grad_partials", DType.F32));
        p.add(KernelParam.in("dy", DType.BF16));
        p.add(KernelParam.in("x", DType.BF16));
        p.add(KernelParam.in("weight", DType.BF16));
        if (kind == NormKind.LAYER) p.add(KernelParam.in("mean", DType.F32));
        p.add(KernelParam.in("rstd", DType.F32));
        if (addResidualGradient) p.add(KernelParam.in("residual_grad", DType.BF16));
        return p;
    }

    @Override
    public CudaKernel emit() {
        VectorAccess v = vectors(dim).orElseThrow();
        boolean layer = kind == NormKind.LAYER;
        int threads = dim / v.width();
        StringBuilder b = new StringBuilder(v.source()).append('\n')
                .append("#define ROWS ").append(rows).append('\n')
                .append("#define DIM ").append(dim).append('\n')
                .append("#define THREADS ").append(threads).append('\n')
                .append("#define WARPS (THREADS / 32)\n")
                .append("#define ROWS_PER_BLOCK ").append(rowsPerBlock()).append('\n')
                .append("#define SUMS ").append(layer ? 2 : 1).append('\n')
                .append("#define RESIDUAL ").append(addResidualGradient ? 1 : 0).append('\n')
                // A second row's inputs in registers need ~24 more: not where 1,024 threads leave 64 a thread.
                .append("#define AHEAD ").append(threads <= 512 ? 1 : 0).append("\n\n")
                // blocksPerSm() resident blocks: ptxas keeps to REGISTERS or fewer.
                .append("extern \"C\" __global__ void __launch_bounds__(THREADS, ").append(blocksPerSm()).append(") ").append(kernelName())
                .append(CudaKernel.signature(params())).append(" {\n")
                .append("""
                            // Per-warp partial dot products, double-buffered by row parity so one barrier per row suffices.
                            __shared__ float partial[2][SUMS][WARPS];
                            const int lane = threadIdx.x & 31;
                            const int warp = threadIdx.x >> 5;
                            const int c = threadIdx.x * VEC;
                            float w[VEC];
                            load_bf16_vec(weight + c, w);
                            float dw[VEC], db[VEC];
                            #pragma unroll
                            for (int k = 0; k < VEC; k++) dw[k] = db[k] = 0.0f;
                            const int first = blockIdx.x * ROWS_PER_BLOCK;
                            const int last = min(first + ROWS_PER_BLOCK, ROWS);
                            // With AHEAD, a row's inputs are loaded one row ahead, so that their latency lies under the
                            // previous row's reduction and barrier rather than in front of it (one row at a time, the
                            // loads of a block's few warps left the H200's memory ~half busy).
                            float xv[VEC], g[VEC], rg[VEC], r = 0.0f, m = 0.0f;
                            auto load_row = [&](int row, float* xv_, float* g_, float* rg_, float& r_, float& m_) {
                                const size_t at = (size_t) row * DIM + c;
                                load_bf16_vec(x + at, xv_);
                                load_bf16_vec(dy + at, g_);
                                r_ = rstd[row];
                                LOAD_EXTRA
                            };
                            if (AHEAD && first < last) load_row(first, xv, g, rg, r, m);
                            for (int row = first; row < last; row++) {
                                const int p = (row - first) & 1;
                                const size_t at = (size_t) row * DIM + c;
                                if (!AHEAD) load_row(row, xv, g, rg, r, m);
                                float nxv[VEC], ng[VEC], nrg[VEC], nr = 0.0f, nm = 0.0f;
                                if (AHEAD && row + 1 < last) load_row(row + 1, nxv, ng, nrg, nr, nm);
                                float dxv[VEC];
                        """.replace("LOAD_EXTRA", (layer ? "m_ = mean[row];" : "(void) m_;")
                                + (addResidualGradient ? " if (AHEAD) load_bf16_vec(residual_grad + at, rg_);" : " (void) rg_;")));
        if (layer) {
            b.append("""
                                float xhat[VEC], sg = 0.0f, sgx = 0.0f;
                                #pragma unroll
                                for (int k = 0; k < VEC; k++) {
                                    xhat[k] = (xv[k] - m) * r;
                                    sg += g[k] * w[k];
                                    sgx += g[k] * w[k] * xhat[k];
                                }
                                sg = warp_sum(sg);
                                sgx = warp_sum(sgx);
                                if (lane == 0) {
                                    partial[p][0][warp] = sg;
                                    partial[p][1][warp] = sgx;
                                }
                                __syncthreads();
                                float meanG = 0.0f, meanGX = 0.0f;
                                #pragma unroll
                                for (int i = 0; i < WARPS; i++) {
                                    meanG += partial[p][0][i];
                                    meanGX += partial[p][1][i];
                                }
                                meanG /= DIM;
                                meanGX /= DIM;
                                #pragma unroll
                                for (int k = 0; k < VEC; k++) {
                                    dxv[k] = r * (g[k] * w[k] - meanG - xhat[k] * meanGX);
                                    dw[k] += g[k] * xhat[k];
                                    db[k] += g[k];
                                }
                        """);
        } else {
            b.append("""
                                float dot = 0.0f;
                                #pragma unroll
                                for (int k = 0; k < VEC; k++) dot += g[k] * w[k] * xv[k];
                                dot = warp_sum(dot);
                                if (lane == 0) partial[p][0][warp] = dot;
                                __syncthreads();
                                float total = 0.0f;
                                #pragma unroll
                                for (int i = 0; i < WARPS; i++) total += partial[p][0][i];
                                const float cr = r * r * total / DIM;
                                #pragma unroll
                                for (int k = 0; k < VEC; k++) {
                                    dxv[k] = r * (g[k] * w[k] - xv[k] * cr);
                                    dw[k] += g[k] * xv[k] * r;
                                }
                        """);
        }
        if (addResidualGradient) {
            b.append("""
                                if (!AHEAD) load_bf16_vec(residual_grad + at, rg);  // fewer registers live across the barrier
                                #pragma unroll
                                for (int k = 0; k < VEC; k++) dxv[k] += rg[k];
                        """);
        }
        b.append("""
                            store_bf16_vec(dx + at, dxv);
                            if (!AHEAD) continue;
                            #pragma unroll
                            for (int k = 0; k < VEC; k++) {
                                xv[k] = nxv[k];
                                g[k] = ng[k];
                                if (RESIDUAL) rg[k] = nrg[k];
                            }
                            r = nr;
                            m = nm;
                        }
                        store_f32_vec(weight_grad_partials + (size_t) blockIdx.x * DIM + c, dw);
                    """);
        if (layer) {
            b.append("    store_f32_vec(bias_grad_partials + (size_t) blockIdx.x * DIM + c, db);\n");
        }
        b.append("}\n");
        String header = (layer ? "LayerNorm" : "RMSNorm") + " backward, " + rows + " rows of " + dim + ", "
                + rowsPerBlock() + " rows per block into " + partialRows() + " partial rows"
                + (addResidualGradient ? ", residual gradient added" : "") + ".";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, b.toString()),
                LaunchGeometry.linear(partialRows(), threads, 0), params());
    }
}

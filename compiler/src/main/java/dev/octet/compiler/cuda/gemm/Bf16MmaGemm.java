package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * BF16 GEMM on the tensor cores with {@code mma.sync.m16n8k16}, FP32 accumulation, each operand
 * {@link OperandLayout#K_MAJOR} or {@link OperandLayout#MN_MAJOR}. Oracle: dev.octet.cpu.ops.Linear (which
 * accumulates in double; the GPU's FP32 sum differs by rounding only).
 *
 * <p>Data flow: each block stages {@code blockK = 32} of K of its A and B slices in shared memory, in the
 * operand's own layout ({@code [rows][32]} or {@code [32][rows]}, rows padded by 8 elements against bank
 * conflicts), with cp.async in two stages. Fragments are assembled from shared memory in the PTX layout, two
 * elements per 32-bit register, so both layouts feed the same MMAs. Any M, N and K work: out-of-range
 * elements are zero-filled. Each operand is copied in the widest piece its leading dimension allows (16, 8, 4
 * bytes with cp.async; 2 bytes, synchronously, when the leading dimension is odd, e.g. a vocabulary of
 * 50257: correct but slow, so pad such dimensions to a multiple of 8 where speed matters).
 *
 * <p>Parameters: {@code a, b, [bias], [residual], c}. Buffers must be 16-byte aligned.
 */
public record Bf16MmaGemm(GemmProblem problem, GemmTiles tiles) implements GemmKernel {
    /** Elements of padding per staged shared-memory row: keeps rows 16-byte aligned and spreads banks. */
    static final int ROW_PADDING = 8;

    public Bf16MmaGemm {
        Objects.requireNonNull(problem, "problem");
        Objects.requireNonNull(tiles, "tiles");
        if (!(problem.a() instanceof GemmOperand.Bf16) || !(problem.b() instanceof GemmOperand.Bf16)) {
            throw new IllegalArgumentException("Bf16MmaGemm needs BF16 operands (FP8 GEMMs are Fp8WgmmaGemm): " + problem);
        }
        if (!problem.dense()) {
            throw new IllegalArgumentException("Bf16MmaGemm reads matrices with their rows back to back; rows padded to "
                    + problem.pitches() + " are for Bf16WgmmaGemm: " + problem);
        }
    }

    /** With the tiles {@link GemmTileHeuristic} chooses. */
    public static Bf16MmaGemm of(GemmProblem problem) {
        return new Bf16MmaGemm(problem, GemmTileHeuristic.choose(problem));
    }

    public int sharedBytes() {
        return MmaGemmSource.STAGES * (stagedElements(layoutA(), tiles.blockM()) + stagedElements(layoutB(), tiles.blockN())) * 2;
    }

    @Override
    public String kernelName() {
        return "bf16_gemm_m" + problem.m() + "_n" + problem.n() + "_k" + problem.k()
                + "_a_" + layoutA().tag() + "_b_" + layoutB().tag()
                + "_" + problem.epilogue().tag() + "_" + tiles.tag();
    }

    @Override
    public CudaKernel emit() {
        List<KernelParam> params = new ArrayList<>(List.of(KernelParam.in("a", DType.BF16), KernelParam.in("b", DType.BF16)));
        params.addAll(MmaGemmSource.epilogueParams(problem.epilogue()));
        String name = kernelName();
        String description = """
                %s
                C[M,N] = A[M,K] · B[N,K]ᵀ, M=%d N=%d K=%d, BF16 on tensor cores (mma.sync m16n8k16), FP32 accumulation.
                A: bf16 %s. B: bf16 %s.
                %s.
                Tiles %dx%dx%d, %dx%d warps (%d threads), %d cp.async stages, %d bytes of dynamic shared memory.
                Oracle: dev.octet.cpu.ops.Linear.""".formatted(
                name, problem.m(), problem.n(), problem.k(), describe(layoutA(), "M"), describe(layoutB(), "N"),
                MmaGemmSource.describe(problem.epilogue()), tiles.blockM(), tiles.blockN(), tiles.blockK(),
                tiles.warpsM(), tiles.warpsN(), tiles.threads(), MmaGemmSource.STAGES, sharedBytes());
        return new CudaKernel(name, CudaPrelude.kernelSource(description, body(name, params)),
                MmaGemmSource.launch(problem, tiles, sharedBytes()), params);
    }

    private OperandLayout layoutA() {
        return ((GemmOperand.Bf16) problem.a()).layout();
    }

    private OperandLayout layoutB() {
        return ((GemmOperand.Bf16) problem.b()).layout();
    }

    private int stagedElements(OperandLayout layout, int rows) {
        return switch (layout) {
            case K_MAJOR -> rows * (tiles.blockK() + ROW_PADDING);
            case MN_MAJOR -> tiles.blockK() * (rows + ROW_PADDING);
        };
    }

    static String describe(OperandLayout layout, String rows) {
        return switch (layout) {
            case K_MAJOR -> "[" + rows + ",K] row-major (K-major)";
            case MN_MAJOR -> "[K," + rows + "] row-major (" + rows + "-major)";
        };
    }

    /** Elements per copy: the widest of 8, 4, 2, 1 that divides the leading dimension (16, 8, 4, 2 bytes). */
    static int vectorElements(int leadingDimension) {
        for (int v : new int[] {8, 4, 2}) {
            if (leadingDimension % v == 0) {
                return v;
            }
        }
        return 1;
    }

    private static String copyFunction(int vector) {
        return switch (vector) {
            case 8 -> "cp_async_16";
            case 4 -> "cp_async_8";
            case 2 -> "cp_async_4";
            default -> "copy_2";
        };
    }

    /**
     * Source of {@code load_<x>}, which stages K slice [k0, k0 + BK) of rows [first, first + tile) of operand
     * x (rows: M for A, N for B), and of {@code pair_<x>}, the 32-bit fragment register holding elements
     * (r, k) and (r, k + 1) of the staged slice (the lower half holds k, as mma.sync expects).
     */
    private String operandFunctions(String x, OperandLayout layout) {
        String tile = x.equals("a") ? "BM" : "BN";
        String extent = x.equals("a") ? "M" : "N";
        String upper = x.toUpperCase();
        return switch (layout) {
            case K_MAJOR -> {
                int vec = vectorElements(problem.k());
                yield """
                        constexpr int %1$s_STRIDE = BK + %2$d;  // staged as [%3$s][BK + pad]
                        constexpr int %1$s_STAGE = %3$s * %1$s_STRIDE;
                        __device__ __forceinline__ void load_%4$s(bf16_t* s, const bf16_t* __restrict__ g, int first, int k0) {
                            constexpr int PER_ROW = BK / %5$d;
                            for (int v = threadIdx.x; v < %3$s * PER_ROW; v += THREADS) {
                                const int r = v / PER_ROW, kq = (v %% PER_ROW) * %5$d;
                                const bool ok = first + r < %6$s && k0 + kq < K;
                                %7$s(s + r * %1$s_STRIDE + kq, g + (ok ? (size_t) (first + r) * K + k0 + kq : 0), ok);
                            }
                        }
                        __device__ __forceinline__ unsigned pair_%4$s(const bf16_t* s, int r, int k) {
                            return *(const unsigned*) (s + r * %1$s_STRIDE + k);
                        }
                        """.formatted(upper, ROW_PADDING, tile, x, vec, extent, copyFunction(vec));
            }
            case MN_MAJOR -> {
                int vec = vectorElements(x.equals("a") ? problem.m() : problem.n());
                yield """
                        constexpr int %1$s_STRIDE = %3$s + %2$d;  // staged as [BK][%3$s + pad]
                        constexpr int %1$s_STAGE = BK * %1$s_STRIDE;
                        __device__ __forceinline__ void load_%4$s(bf16_t* s, const bf16_t* __restrict__ g, int first, int k0) {
                            constexpr int PER_ROW = %3$s / %5$d;
                            for (int v = threadIdx.x; v < BK * PER_ROW; v += THREADS) {
                                const int kq = v / PER_ROW, r = (v %% PER_ROW) * %5$d;
                                const bool ok = first + r < %6$s && k0 + kq < K;
                                %7$s(s + kq * %1$s_STRIDE + r, g + (ok ? (size_t) (k0 + kq) * %6$s + first + r : 0), ok);
                            }
                        }
                        __device__ __forceinline__ unsigned pair_%4$s(const bf16_t* s, int r, int k) {
                            return (unsigned) s[k * %1$s_STRIDE + r] | ((unsigned) s[(k + 1) * %1$s_STRIDE + r] << 16);
                        }
                        """.formatted(upper, ROW_PADDING, tile, x, vec, extent, copyFunction(vec));
            }
        };
    }

    private String body(String name, List<KernelParam> params) {
        return MmaGemmSource.constants(problem, tiles) + "\n" + MmaGemmSource.CP_ASYNC + "\n"
                + operandFunctions("a", layoutA()) + "\n"
                + operandFunctions("b", layoutB()) + """

                constexpr int STAGE_ELEMENTS = A_STAGE + B_STAGE;

                // D += A·B for one 16x8x16 tile; fragments in the PTX layout of 16-bit mma.sync operands.
                __device__ __forceinline__ void mma_16x8x16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
                    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%%0, %%1, %%2, %%3}, {%%4, %%5, %%6, %%7}, {%%8, %%9}, {%%0, %%1, %%2, %%3};"
                        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
                }

                // Minimum one block per SM: ptxas may use up to 255 registers rather than spill to reach a higher occupancy.
                extern "C" __global__ void __launch_bounds__(THREADS, 1) %1$s%2$s {
                    extern __shared__ __align__(16) bf16_t smem[];
                %3$s
                    float acc[MT][NT][4];
                    #pragma unroll
                    for (int mt = 0; mt < MT; ++mt)
                        #pragma unroll
                        for (int nt = 0; nt < NT; ++nt)
                            #pragma unroll
                            for (int e = 0; e < 4; ++e) acc[mt][nt][e] = 0.0f;

                    load_a(smem, a, row0, 0);
                    load_b(smem + A_STAGE, b, col0, 0);
                    cp_async_commit();
                    for (int kt = 0; kt < K_TILES; ++kt) {
                        if (kt + 1 < K_TILES) {
                            bf16_t* next = smem + ((kt + 1) %% 2) * STAGE_ELEMENTS;
                            load_a(next, a, row0, (kt + 1) * BK);
                            load_b(next + A_STAGE, b, col0, (kt + 1) * BK);
                        }
                        cp_async_commit();  // possibly empty, so that wait_group 1 always means "stage kt has landed"
                        cp_async_wait_one();
                        __syncthreads();
                        const bf16_t* sa = smem + (kt %% 2) * STAGE_ELEMENTS;
                        const bf16_t* sb = sa + A_STAGE;
                        #pragma unroll
                        for (int kk = 0; kk < BK; kk += 16) {
                            if (kt * BK + kk >= K) break;  // zero-filled past K: nothing left to add
                            unsigned af[MT][4], bf[NT][2];
                            #pragma unroll
                            for (int mt = 0; mt < MT; ++mt) {
                                const int r = warp_row + mt * 16 + group, k = kk + quad * 2;
                                af[mt][0] = pair_a(sa, r, k);
                                af[mt][1] = pair_a(sa, r + 8, k);
                                af[mt][2] = pair_a(sa, r, k + 8);
                                af[mt][3] = pair_a(sa, r + 8, k + 8);
                            }
                            #pragma unroll
                            for (int nt = 0; nt < NT; ++nt) {
                                const int r = warp_col + nt * 8 + group, k = kk + quad * 2;
                                bf[nt][0] = pair_b(sb, r, k);
                                bf[nt][1] = pair_b(sb, r, k + 8);
                            }
                            #pragma unroll
                            for (int mt = 0; mt < MT; ++mt)
                                #pragma unroll
                                for (int nt = 0; nt < NT; ++nt) mma_16x8x16(acc[mt][nt], af[mt], bf[nt]);
                        }
                        __syncthreads();  // every warp is done with this stage before it is refilled
                    }

                %4$s}
                """.formatted(name, CudaKernel.signature(params), MmaGemmSource.COORDINATES,
                MmaGemmSource.epilogue(problem.epilogue()));
    }
}

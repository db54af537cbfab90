package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Gemm;
import dev.octet.numerics.ScaleGrid;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * FP8 GEMM on the tensor cores with {@code mma.sync.m16n8k32} (any mix of E4M3 and E5M2), computing what
 * {@link Fp8Gemm#multiply} computes: per promotion chunk (see {@link Fp8Gemm#chunkSize}) the MMAs sum FP32
 * partials, which are then multiplied by {@code sA·sB} (rounded to FP32) and added into a second set of FP32
 * accumulators, each step rounded on its own.
 *
 * <p>Data flow: each block stages a {@code blockM × 128} slice of A and a {@code blockN × 128} slice of B in
 * shared memory with cp.async (two stages, so the next slice loads while this one is multiplied); rows past M
 * or N are zero-filled and their results never stored, so any M and N work. K must be a multiple of 32 (one
 * MMA); a last partial promotion chunk exists exactly where Fp8Gemm has one. Scales are read from global
 * memory (they are few and stay in L1) at each promotion.
 *
 * <p>Parameters: {@code a, a_scales, b, b_scales, [bias], [residual], c}. Buffers must be 16-byte aligned.
 * The dynamic shared memory may exceed 48 KiB: the launcher raises the function's limit to
 * {@link dev.octet.compiler.cuda.LaunchGeometry#sharedBytes()}.
 */
public record Fp8MmaGemm(GemmProblem problem, GemmTiles tiles) implements KernelSpec {
    /** K extent of one m16n8k32 MMA. */
    static final int MMA_K = 32;

    /** Shared-memory row of a staged slice: 128 codes + 16 bytes of padding, so the fragment loads of a warp
     * (8 rows × 4 words) fall in 32 distinct banks. */
    static final int ROW_PADDING_BYTES = 16;

    public Fp8MmaGemm {
        Objects.requireNonNull(problem, "problem");
        Objects.requireNonNull(tiles, "tiles");
        if (!(problem.a() instanceof GemmOperand.Fp8) || !(problem.b() instanceof GemmOperand.Fp8)) {
            throw new IllegalArgumentException("Fp8MmaGemm needs FP8 operands (BF16 GEMMs are Bf16MmaGemm): " + problem);
        }
        if (problem.k() % MMA_K != 0) {
            throw new IllegalArgumentException("FP8 GEMM needs K to be a multiple of " + MMA_K + " (one m16n8k32 MMA), got K="
                    + problem.k() + "; pad the reduction axis with zero codes");
        }
        int chunk = promotionChunk(problem);
        if (chunk % MMA_K != 0) {
            throw new IllegalArgumentException("promotion chunk " + chunk + " (gcd of 128 and the scale tile widths along K) is"
                    + " not a multiple of " + MMA_K + ", the K of one MMA: use groups or blocks of a multiple of 32");
        }
        if (tiles.blockK() % chunk != 0) {
            throw new IllegalArgumentException("blockK " + tiles.blockK() + " must be a multiple of the promotion chunk " + chunk);
        }
    }

    /** With the tiles {@link GemmTileHeuristic} chooses. */
    public static Fp8MmaGemm of(GemmProblem problem) {
        return new Fp8MmaGemm(problem, GemmTileHeuristic.choose(problem));
    }

    /** The K extent between two promotions, {@link Fp8Gemm#chunkSize(ScaleGrid, ScaleGrid)}. */
    public static int promotionChunk(GemmProblem problem) {
        return Fp8Gemm.chunkSize(aOperand(problem).scaleGrid(problem.m(), problem.k()),
                bOperand(problem).scaleGrid(problem.n(), problem.k()));
    }

    public int sharedBytes() {
        return MmaGemmSource.STAGES * (tiles.blockM() + tiles.blockN()) * rowBytes();
    }

    @Override
    public String kernelName() {
        return "fp8_gemm_m" + problem.m() + "_n" + problem.n() + "_k" + problem.k()
                + "_a_" + aOperand(problem).tag() + "_b_" + bOperand(problem).tag()
                + "_" + problem.epilogue().tag() + "_" + tiles.tag();
    }

    @Override
    public CudaKernel emit() {
        GemmOperand.Fp8 a = aOperand(problem);
        GemmOperand.Fp8 b = bOperand(problem);
        ScaleGrid aGrid = a.scaleGrid(problem.m(), problem.k());
        ScaleGrid bGrid = b.scaleGrid(problem.n(), problem.k());
        int chunk = promotionChunk(problem);
        List<KernelParam> params = new ArrayList<>(List.of(
                KernelParam.in("a", a.dtype()), KernelParam.in("a_scales", DType.F32),
                KernelParam.in("b", b.dtype()), KernelParam.in("b_scales", DType.F32)));
        params.addAll(MmaGemmSource.epilogueParams(problem.epilogue()));
        String name = kernelName();
        String description = """
                %s
                C[M,N] = A[M,K] · B[N,K]ᵀ, M=%d N=%d K=%d, FP8 on tensor cores (mma.sync m16n8k32 %s x %s).
                A: %s codes [M,K] row-major; f32 scales %s along K, [%d, %d] row-major.
                B: %s codes [N,K] row-major; f32 scales %s along K, [%d, %d] row-major.
                Every %d of K the FP32 partial sums are multiplied by sA·sB and added into FP32 accumulators.
                %s.
                Tiles %dx%dx%d, %dx%d warps (%d threads), %d cp.async stages, %d bytes of dynamic shared memory.
                Oracle: dev.octet.numerics.Fp8Gemm.multiply.""".formatted(
                name, problem.m(), problem.n(), problem.k(), a.dtype().irName(), b.dtype().irName(),
                a.dtype().irName(), a.granularity().describe(), aGrid.scaleRows(), aGrid.scaleCols(),
                b.dtype().irName(), b.granularity().describe(), bGrid.scaleRows(), bGrid.scaleCols(),
                chunk, MmaGemmSource.describe(problem.epilogue()),
                tiles.blockM(), tiles.blockN(), tiles.blockK(), tiles.warpsM(), tiles.warpsN(), tiles.threads(),
                MmaGemmSource.STAGES, sharedBytes());
        return new CudaKernel(name, CudaPrelude.kernelSource(description, body(name, a, b, aGrid, bGrid, chunk, params)),
                MmaGemmSource.launch(problem, tiles, sharedBytes()), params);
    }

    private int rowBytes() {
        return tiles.blockK() + ROW_PADDING_BYTES;
    }

    private String body(String name, GemmOperand.Fp8 a, GemmOperand.Fp8 b, ScaleGrid aGrid, ScaleGrid bGrid, int chunk,
                        List<KernelParam> params) {
        String constants = MmaGemmSource.constants(problem, tiles) + """
                constexpr int CHUNK = %d;  // promotion chunk along K
                constexpr int ROW_BYTES = %d;  // padded shared-memory row of a staged slice
                constexpr int A_STAGE_BYTES = BM * ROW_BYTES, STAGE_BYTES = (BM + BN) * ROW_BYTES;
                // Scale grids (dev.octet.numerics.ScaleGrid): index(r, k) = (r / TILE_ROWS) * SCALE_COLS + k / TILE_COLS.
                constexpr int SA_TILE_ROWS = %d, SA_TILE_COLS = %d, SA_SCALE_COLS = %d;
                constexpr int SB_TILE_ROWS = %d, SB_TILE_COLS = %d, SB_SCALE_COLS = %d;
                """.formatted(chunk, rowBytes(), aGrid.tileRows(), aGrid.tileCols(), aGrid.scaleCols(),
                bGrid.tileRows(), bGrid.tileCols(), bGrid.scaleCols());
        String mma = "mma.sync.aligned.m16n8k32.row.col.f32." + a.dtype().irName() + "." + b.dtype().irName() + ".f32";
        return constants + "\n" + MmaGemmSource.CP_ASYNC + """

                // D += A·B for one 16x8x32 tile; fragments in the PTX layout of 8-bit mma.sync operands.
                __device__ __forceinline__ void mma_16x8x32(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
                    asm("%1$s {%%0, %%1, %%2, %%3}, {%%4, %%5, %%6, %%7}, {%%8, %%9}, {%%0, %%1, %%2, %%3};"
                        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
                }

                // Four consecutive codes (r, k..k+3) of a staged slice.
                __device__ __forceinline__ unsigned codes4(const unsigned char* slice, int r, int k) {
                    return *(const unsigned*) (slice + r * ROW_BYTES + k);
                }

                // Stage the K slice [k0, k0 + BK) of A's rows [row0, row0 + BM) and B's rows [col0, col0 + BN).
                __device__ __forceinline__ void load_stage(unsigned char* stage, const fp8_t* __restrict__ a,
                                                           const fp8_t* __restrict__ b, int row0, int col0, int k0) {
                    constexpr int VECTORS_PER_ROW = BK / 16;
                    for (int v = threadIdx.x; v < BM * VECTORS_PER_ROW; v += THREADS) {
                        const int r = v / VECTORS_PER_ROW, kq = (v %% VECTORS_PER_ROW) * 16;
                        const bool ok = row0 + r < M && k0 + kq < K;
                        cp_async_16(stage + r * ROW_BYTES + kq, a + (ok ? (size_t) (row0 + r) * K + k0 + kq : 0), ok);
                    }
                    unsigned char* b_stage = stage + A_STAGE_BYTES;
                    for (int v = threadIdx.x; v < BN * VECTORS_PER_ROW; v += THREADS) {
                        const int r = v / VECTORS_PER_ROW, kq = (v %% VECTORS_PER_ROW) * 16;
                        const bool ok = col0 + r < N && k0 + kq < K;
                        cp_async_16(b_stage + r * ROW_BYTES + kq, b + (ok ? (size_t) (col0 + r) * K + k0 + kq : 0), ok);
                    }
                }

                // Minimum one block per SM: ptxas may use up to 255 registers rather than spill to reach a higher occupancy.
                extern "C" __global__ void __launch_bounds__(THREADS, 1) %2$s%3$s {
                    extern __shared__ __align__(16) unsigned char smem[];
                %4$s
                    float acc[MT][NT][4];   // promoted sums
                    float part[MT][NT][4];  // sums of the current chunk
                    #pragma unroll
                    for (int mt = 0; mt < MT; ++mt)
                        #pragma unroll
                        for (int nt = 0; nt < NT; ++nt)
                            #pragma unroll
                            for (int e = 0; e < 4; ++e) acc[mt][nt][e] = 0.0f;

                    load_stage(smem, a, b, row0, col0, 0);
                    cp_async_commit();
                    for (int kt = 0; kt < K_TILES; ++kt) {
                        if (kt + 1 < K_TILES) load_stage(smem + ((kt + 1) %% 2) * STAGE_BYTES, a, b, row0, col0, (kt + 1) * BK);
                        cp_async_commit();  // possibly empty, so that wait_group 1 always means "stage kt has landed"
                        cp_async_wait_one();
                        __syncthreads();
                        const unsigned char* sa = smem + (kt %% 2) * STAGE_BYTES;
                        const unsigned char* sb = sa + A_STAGE_BYTES;
                        // Not unrolled: the 2 x 64 accumulators leave no registers for fragments of a second step.
                        #pragma unroll 1
                        for (int c = 0; c < BK / CHUNK; ++c) {
                            const int k0 = kt * BK + c * CHUNK;
                            if (k0 >= K) break;
                            #pragma unroll
                            for (int mt = 0; mt < MT; ++mt)
                                #pragma unroll
                                for (int nt = 0; nt < NT; ++nt)
                                    #pragma unroll
                                    for (int e = 0; e < 4; ++e) part[mt][nt][e] = 0.0f;
                            #pragma unroll 1
                            for (int s = 0; s < CHUNK / 32; ++s) {
                                const int kk = c * CHUNK + s * 32;
                                if (kt * BK + kk >= K) break;  // the last chunk may be partial (K %% 32 == 0)
                                unsigned af[MT][4], bf[NT][2];
                                #pragma unroll
                                for (int mt = 0; mt < MT; ++mt) {
                                    const int r = warp_row + mt * 16 + group, k = kk + quad * 4;
                                    af[mt][0] = codes4(sa, r, k);
                                    af[mt][1] = codes4(sa, r + 8, k);
                                    af[mt][2] = codes4(sa, r, k + 16);
                                    af[mt][3] = codes4(sa, r + 8, k + 16);
                                }
                                #pragma unroll
                                for (int nt = 0; nt < NT; ++nt) {
                                    const int r = warp_col + nt * 8 + group, k = kk + quad * 4;
                                    bf[nt][0] = codes4(sb, r, k);
                                    bf[nt][1] = codes4(sb, r, k + 16);
                                }
                                #pragma unroll
                                for (int mt = 0; mt < MT; ++mt)
                                    #pragma unroll
                                    for (int nt = 0; nt < NT; ++nt) mma_16x8x32(part[mt][nt], af[mt], bf[nt]);
                            }
                            // Promotion: acc += part * (sA * sB). Rows and columns past the edge read the last
                            // valid scale (their partial sums are zero and never stored).
                            float sa_lo[MT], sa_hi[MT], sb_lo[NT], sb_hi[NT];
                            #pragma unroll
                            for (int mt = 0; mt < MT; ++mt) {
                                const int r = row0 + warp_row + mt * 16 + group;
                                sa_lo[mt] = __ldg(a_scales + (min(r, M - 1) / SA_TILE_ROWS) * SA_SCALE_COLS + k0 / SA_TILE_COLS);
                                sa_hi[mt] = __ldg(a_scales + (min(r + 8, M - 1) / SA_TILE_ROWS) * SA_SCALE_COLS + k0 / SA_TILE_COLS);
                            }
                            #pragma unroll
                            for (int nt = 0; nt < NT; ++nt) {
                                const int n = col0 + warp_col + nt * 8 + quad * 2;
                                sb_lo[nt] = __ldg(b_scales + (min(n, N - 1) / SB_TILE_ROWS) * SB_SCALE_COLS + k0 / SB_TILE_COLS);
                                sb_hi[nt] = __ldg(b_scales + (min(n + 1, N - 1) / SB_TILE_ROWS) * SB_SCALE_COLS + k0 / SB_TILE_COLS);
                            }
                            #pragma unroll
                            for (int mt = 0; mt < MT; ++mt) {
                                #pragma unroll
                                for (int nt = 0; nt < NT; ++nt) {
                                    float* d = acc[mt][nt];
                                    const float* p = part[mt][nt];
                                    d[0] = __fadd_rn(d[0], __fmul_rn(p[0], __fmul_rn(sa_lo[mt], sb_lo[nt])));
                                    d[1] = __fadd_rn(d[1], __fmul_rn(p[1], __fmul_rn(sa_lo[mt], sb_hi[nt])));
                                    d[2] = __fadd_rn(d[2], __fmul_rn(p[2], __fmul_rn(sa_hi[mt], sb_lo[nt])));
                                    d[3] = __fadd_rn(d[3], __fmul_rn(p[3], __fmul_rn(sa_hi[mt], sb_hi[nt])));
                                }
                            }
                        }
                        __syncthreads();  // every warp is done with this stage before it is refilled
                    }

                %5$s}
                """.formatted(mma, name, CudaKernel.signature(params), MmaGemmSource.COORDINATES,
                MmaGemmSource.epilogue(problem.epilogue()));
    }

    private static GemmOperand.Fp8 aOperand(GemmProblem problem) {
        return (GemmOperand.Fp8) problem.a();
    }

    private static GemmOperand.Fp8 bOperand(GemmProblem problem) {
        return (GemmOperand.Fp8) problem.b();
    }
}

package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts the two mma.sync GEMM templates share: compile-time constants, cp.async helpers, the epilogue
 * and its parameters. The generated code names its warp's position {@code row0/col0} (block), {@code
 * warp_row/warp_col} (warp inside the block) and {@code group/quad} (PTX's groupID and threadID_in_group), and
 * keeps the result in {@code float acc[MT][NT][4]} in the m16n8 accumulator layout: element e of tile (mt, nt)
 * is row {@code mt·16 + group + 8·(e / 2)}, column {@code nt·8 + 2·quad + e % 2}.
 */
final class MmaGemmSource {
    private MmaGemmSource() {}

    /** Two shared-memory stages: one is read by the MMAs while cp.async fills the other. */
    static final int STAGES = 2;

    static final String CP_ASYNC = """
            // cp.async copies global → shared without passing through registers; src-size 0 writes zeros,
            // which is how rows and columns past the matrix edge become harmless zero products.
            __device__ __forceinline__ void cp_async_16(void* smem, const void* gmem, bool valid) {
                unsigned s = (unsigned) __cvta_generic_to_shared(smem);
                asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(s), "l"(gmem), "r"(valid ? 16 : 0));
            }

            __device__ __forceinline__ void cp_async_8(void* smem, const void* gmem, bool valid) {
                unsigned s = (unsigned) __cvta_generic_to_shared(smem);
                asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;" :: "r"(s), "l"(gmem), "r"(valid ? 8 : 0));
            }

            __device__ __forceinline__ void cp_async_4(void* smem, const void* gmem, bool valid) {
                unsigned s = (unsigned) __cvta_generic_to_shared(smem);
                asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" :: "r"(s), "l"(gmem), "r"(valid ? 4 : 0));
            }

            // cp.async has no 2-byte form: an odd leading dimension is copied element by element, synchronously.
            __device__ __forceinline__ void copy_2(void* smem, const void* gmem, bool valid) {
                *(unsigned short*) smem = valid ? *(const unsigned short*) gmem : (unsigned short) 0;
            }

            __device__ __forceinline__ void cp_async_commit() {
                asm volatile("cp.async.commit_group;" ::: "memory");
            }

            // Wait until at most one group (the stage being prefetched) is still in flight.
            __device__ __forceinline__ void cp_async_wait_one() {
                asm volatile("cp.async.wait_group 1;" ::: "memory");
            }
            """;

    /** The compile-time constants both templates use. */
    static String constants(GemmProblem p, GemmTiles t) {
        return """
                constexpr int M = %d, N = %d, K = %d, LDC = N;
                constexpr int BM = %d, BN = %d, BK = %d;
                constexpr int WARPS_M = %d, WARPS_N = %d, THREADS = %d;
                constexpr int MT = %d, NT = %d;  // 16x8 MMA tiles per warp along M and N
                constexpr int K_TILES = (K + BK - 1) / BK;
                """.formatted(p.m(), p.n(), p.k(), t.blockM(), t.blockN(), t.blockK(), t.warpsM(), t.warpsN(),
                t.threads(), t.mmaTilesM(), t.mmaTilesN());
    }

    /** The thread's coordinates, shared by both kernels' bodies. */
    static final String COORDINATES = """
                const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
                const int group = lane / 4, quad = lane % 4;  // groupID, threadID_in_group of the PTX fragment layouts
                const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
                const int warp_row = (warp / WARPS_N) * (BM / WARPS_M), warp_col = (warp % WARPS_N) * (BN / WARPS_N);
            """;

    /** The buffer parameters after the operands: [bias], [residual], c. */
    static List<KernelParam> epilogueParams(GemmEpilogue e) {
        List<KernelParam> params = new ArrayList<>();
        if (e.bias()) {
            params.add(KernelParam.in("bias", DType.BF16));
        }
        if (e.residual()) {
            params.add(KernelParam.in("residual", DType.BF16));
        }
        params.add(e.accumulate() ? KernelParam.inOut("c", e.output()) : KernelParam.out("c", e.output()));
        return params;
    }

    /**
     * Writes {@code acc} through the epilogue, skipping rows ≥ M and columns ≥ N; C's rows lie {@code LDC}
     * elements apart (a constant of the template). A thread holds two adjacent columns per 8-column tile; with LDC
     * even (every pair 4- or 8-byte aligned, and inside C's row or its padding: a zero goes to the padding) they
     * go out as one store, else one by one.
     */
    static String epilogue(GemmEpilogue e) {
        StringBuilder v = new StringBuilder(valueSteps(e));
        if (e.accumulate()) {
            v.append("                    x = __fadd_rn(c[i + j], x);\n");
        }
        v.append("                    v[j] = x;\n");
        return storeSteps(e, v.toString());
    }

    /**
     * Adds {@code acc} into an FP32 C ({@code c[m,n] += acc}) by reductions in memory, a pair of columns one
     * {@code red.global.add.v2.f32} where LDC is even (8-byte aligned), else one element at a time: nothing is read
     * back, so the consumers go on at once. Each element gets one add, as from a TMA reduction: deterministic.
     */
    static String reductionEpilogue(GemmEpilogue e) {
        if (!e.accumulate() || e.output() != DType.F32 || e.bias() || e.residual()) {
            throw new IllegalArgumentException("a reduction epilogue adds the plain product into FP32: not " + describe(e));
        }
        return pairWalk(describe(e) + ", by reductions in memory", """
                float* const p = c + (size_t) row * LDC + col;
                const float v0 = acc[mt][nt][half * 2], v1 = acc[mt][nt][half * 2 + 1];
                if (LDC % 2 == 0 && col + 1 < N) {
                    asm volatile("red.global.add.v2.f32 [%0], {%1, %2};" :: "l"(p), "f"(v0), "f"(v1) : "memory");
                } else {
                    atomicAdd(p, v0);
                    if (col + 1 < N) atomicAdd(p + 1, v1);
                }
                """);
    }

    /**
     * The walk over a consumer's accumulator fragments, one column pair of one row at a time ({@code row}, {@code col},
     * and {@code acc[mt][nt][half * 2 + j]} for j = 0, 1), rows past M and pairs starting past N skipped: {@code body}
     * runs for each.
     */
    private static String pairWalk(String what, String body) {
        return """
                    // Epilogue: %s
                    #pragma unroll
                    for (int mt = 0; mt < MT; ++mt) {
                        #pragma unroll
                        for (int half = 0; half < 2; ++half) {
                            const int row = row0 + warp_row + mt * 16 + group + half * 8;
                            if (row >= M) continue;
                            #pragma unroll
                            for (int nt = 0; nt < NT; ++nt) {
                                const int col = col0 + warp_col + nt * 8 + quad * 2;
                                if (col >= N) continue;
                %s            }
                        }
                    }
                """.formatted(what, body.indent(16));
    }

    /**
     * The steps from {@code acc[mt][nt][half * 2 + j]} to {@code float x}, the value of C's element (row, col + j)
     * before an accumulating epilogue adds C's old value; {@code i} is the element's index in C (rows LDC apart).
     */
    static String valueSteps(GemmEpilogue e) {
        return valueSteps(e, "bf16_to_f32(bias[col + j])", "bf16_to_f32(residual[i + j])");
    }

    /** {@link #valueSteps(GemmEpilogue)} with the widened bias and residual elements read by the given expressions. */
    static String valueSteps(GemmEpilogue e, String bias, String residual) {
        StringBuilder v = new StringBuilder();
        v.append("                    float x = acc[mt][nt][half * 2 + j];\n");
        if (e.bias()) {
            v.append("                    x = __fadd_rn(x, " + bias + ");\n");
        }
        if (e.residual() && e.output() == DType.BF16) {
            // The product is rounded to BF16 first, as the unfused GEMM would store it, so that fusing the
            // residual add into the epilogue changes no bit of the result.
            v.append("                    x = __fadd_rn(bf16_to_f32(f32_to_bf16(x)), " + residual + ");\n");
        } else if (e.residual()) {
            v.append("                    x = __fadd_rn(x, " + residual + ");\n");
        }
        return v.toString();
    }

    private static String storeSteps(GemmEpilogue e, String v) {
        String pairStore = e.output() == DType.BF16
                ? "*reinterpret_cast<unsigned*>(c + i) = (unsigned) f32_to_bf16(v[0]) | ((unsigned) f32_to_bf16(v[1]) << 16);"
                : "*reinterpret_cast<float2*>(c + i) = make_float2(v[0], v[1]);";
        String oneStore = e.output() == DType.BF16 ? "c[i + j] = f32_to_bf16(v[j]);" : "c[i + j] = v[j];";
        return pairWalk(describe(e), """
                const size_t i = (size_t) row * LDC + col;
                float v[2] = {0.0f, 0.0f};
                #pragma unroll
                for (int j = 0; j < 2; ++j) {
                    if (N % 2 != 0 && col + j >= N) continue;
                """ + v.stripIndent().indent(4) + """
                }
                if (LDC % 2 == 0) {  // the pair lies in C's row, or its padding past column N
                    PAIR_STORE
                } else {
                    #pragma unroll
                    for (int j = 0; j < 2; ++j)
                        if (col + j < N) ONE_STORE
                }
                """.replace("PAIR_STORE", pairStore).replace("ONE_STORE", oneStore));
    }

    /** One line: {@code c = bf16(acc + bias[n] + residual[m,n])}. */
    static String describe(GemmEpilogue e) {
        String v = "acc" + (e.bias() ? " + bias[n]" : "");
        if (e.residual()) {
            v = (e.output() == DType.BF16 ? "bf16(" + v + ")" : v) + " + residual[m,n]";
        }
        if (e.accumulate()) {
            v = "c[m,n] + " + (v.equals("acc") ? v : "(" + v + ")");
        }
        return "c[m,n] = " + (e.output() == DType.BF16 ? "bf16(" + v + ")" : v)
                + ", FP32 steps rounded one by one (no FMA)";
    }

    static LaunchGeometry launch(GemmProblem p, GemmTiles t, int sharedBytes) {
        int blocksM = Math.ceilDiv(p.m(), t.blockM());
        if (blocksM > 65535) {
            throw new IllegalArgumentException("M=" + p.m() + " needs " + blocksM + " row blocks, more than gridDim.y allows");
        }
        return new LaunchGeometry(Math.ceilDiv(p.n(), t.blockN()), blocksM, 1, t.threads(), 1, 1, sharedBytes);
    }
}

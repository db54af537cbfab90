package dev.octet.compiler.cuda.embedding;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.VectorAccess;
import dev.octet.compiler.ir.DType;
import java.util.List;
import java.util.Optional;

/**
 * Token table gradient {@code grad[id, :] += Σ_{t: tokens[t] = id} dy[t, :]}, deterministic without float
 * atomics: one warp per (token, strip of 32·VEC columns). The warp of an id's first occurrence
 * ({@code first_token[id]}, from {@link #tally}) sums the dy rows of all its occurrences in token order, found by
 * ballots over the token ids from its own token on and only until it has met {@code id_count[id]} of them, and adds
 * that sum once into the FP32 gradient; the warps of later occurrences leave at once. (Scanning every token
 * for earlier occurrences, as each warp once did, cost O(tokens²): 2.9 ms of GPT-2 124M's step at 32 × 1024.)
 * Ids outside {@code [0, vocab)} are skipped.
 *
 * <p>Buffers in order: {@code grad} f32[vocab, dim] (read and written), {@code dy} bf16[tokens, dim],
 * {@code tokens} i32[tokens], {@code first_token} and {@code id_count} i32[vocab] (as the tally left them).
 */
public record EmbeddingBackward(int tokens, int vocab, int dim) implements KernelSpec {
    static final int WARPS_PER_BLOCK = 4;

    public EmbeddingBackward {
        Embeddings.checkShape("embedding backward", tokens, vocab, dim, Optional.empty());
    }

    @Override
    public String kernelName() {
        return "embedding_backward_t" + tokens + "_v" + vocab + "_d" + dim;
    }

    /** The two launches before this one, in order: reset, then tally of the ids' first tokens and counts. */
    public List<EmbeddingIdTally> tally() {
        return List.of(new EmbeddingIdTally(tokens, vocab, true), new EmbeddingIdTally(tokens, vocab, false));
    }

    private static List<KernelParam> params() {
        return List.of(KernelParam.inOut("grad", DType.F32), KernelParam.in("dy", DType.BF16),
                KernelParam.in("tokens", DType.I32), KernelParam.in("first_token", DType.I32),
                KernelParam.in("id_count", DType.I32));
    }

    @Override
    public CudaKernel emit() {
        VectorAccess v = VectorAccess.widestDividing(dim);
        int strips = Math.ceilDiv(dim, 32 * v.width());
        String body = v.source() + """

                #define TOKENS %d
                #define VOCAB %d
                #define DIM %d
                #define WARPS_PER_BLOCK %d

                extern "C" __global__ void __launch_bounds__(32 * WARPS_PER_BLOCK) %s%s {
                    const int lane = threadIdx.x & 31;
                    const int t = blockIdx.x * WARPS_PER_BLOCK + (threadIdx.x >> 5);
                    if (t >= TOKENS) return;
                    const int c = blockIdx.y * 32 * VEC + lane * VEC;
                    const bool owns_columns = c < DIM;
                    const int id = tokens[t];
                    if (id < 0 || id >= VOCAB) return;
                    if (first_token[id] != t) return;  // an earlier token with this id owns the sum (whole warp leaves)
                    float acc[VEC];
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) acc[k] = 0.0f;
                    // The id's occurrences from this token on, in token order, until all id_count are summed.
                    int remaining = id_count[id];
                    for (int t0 = t; remaining > 0 && t0 < TOKENS; t0 += 32) {
                        const int u = t0 + lane;
                        unsigned match = __ballot_sync(0xffffffffu, u < TOKENS && tokens[u] == id);
                        remaining -= __popc(match);
                        while (match != 0u) {
                            const int hit = t0 + __ffs(match) - 1;
                            match &= match - 1u;
                            if (owns_columns) {
                                float g[VEC];
                                load_bf16_vec(dy + (size_t) hit * DIM + c, g);
                                #pragma unroll
                                for (int k = 0; k < VEC; k++) acc[k] += g[k];
                            }
                        }
                    }
                    if (!owns_columns) return;
                    float* row = grad + (size_t) id * DIM + c;
                    float old[VEC];
                    load_f32_vec(row, old);
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) old[k] += acc[k];
                    store_f32_vec(row, old);
                }
                """.formatted(tokens, vocab, dim, WARPS_PER_BLOCK, kernelName(), CudaKernel.signature(params()));
        String header = "Embedding backward: grad[id] += sum of dy over the tokens with that id, " + tokens
                + " tokens, table [" + vocab + ", " + dim + "], deterministic.";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body),
                new LaunchGeometry(Math.ceilDiv(tokens, WARPS_PER_BLOCK), strips, 1, 32 * WARPS_PER_BLOCK, 1, 1, 0),
                params());
    }
}

package dev.octet.compiler.cuda.embedding;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.VectorAccess;
import dev.octet.compiler.ir.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Token embedding lookup {@code out[t, :] = table[tokens[t], :]}, optionally plus the learned position row
 * {@code positionTable[t mod seqLen, :]}, summed in FP32 and rounded once to BF16. One thread per VEC
 * elements. A token id outside {@code [0, vocab)} (which the CPU op refuses) gives a NaN row rather than
 * reading outside the table, so the loss shows it.
 *
 * <p>Buffers in order: {@code out} bf16[tokens, dim], {@code tokens} i32[tokens], {@code table}
 * bf16[vocab, dim] (the BF16 shadow of the FP32 master), {@code position_table} bf16[maxSeq, dim] (if positions).
 */
public record EmbeddingForward(int tokens, int vocab, int dim, Optional<LearnedPositions> positions)
        implements KernelSpec {
    static final int THREADS = 256;

    public EmbeddingForward {
        Embeddings.checkShape("embedding forward", tokens, vocab, dim, positions);
    }

    public EmbeddingForward(int tokens, int vocab, int dim) {
        this(tokens, vocab, dim, Optional.empty());
    }

    @Override
    public String kernelName() {
        return "embedding_forward_t" + tokens + "_v" + vocab + "_d" + dim
                + positions.map(p -> "_pos_s" + p.seqLen() + "_m" + p.maxSeq()).orElse("");
    }

    private List<KernelParam> params() {
        List<KernelParam> p = new ArrayList<>();
        p.add(KernelParam.out("out", DType.BF16));
        p.add(KernelParam.in("tokens", DType.I32));
        p.add(KernelParam.in("table", DType.BF16));
        if (positions.isPresent()) p.add(KernelParam.in("position_table", DType.BF16));
        return p;
    }

    @Override
    public CudaKernel emit() {
        VectorAccess v = VectorAccess.widestDividing(dim);
        long vectors = (long) tokens * dim / v.width();
        String positionAdd = positions.isPresent() ? """
                    float p[VEC];
                    load_bf16_vec(position_table + (size_t) (t % SEQ_LEN) * DIM + c, p);
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) e[k] += p[k];
                """ : "";
        String body = v.source() + """

                #define TOKENS %d
                #define VOCAB %d
                #define DIM %d
                #define SEQ_LEN %d
                constexpr long long VECTORS = %dLL;

                extern "C" __global__ void __launch_bounds__(%d) %s%s {
                    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
                    if (i >= VECTORS) return;
                    const int t = (int) (i / (DIM / VEC));
                    const int c = (int) (i %% (DIM / VEC)) * VEC;
                    const int id = tokens[t];
                    float e[VEC];
                    if (id < 0 || id >= VOCAB) {
                        #pragma unroll
                        for (int k = 0; k < VEC; k++) e[k] = __uint_as_float(0x7fc00000u);
                    } else {
                        load_bf16_vec(table + (size_t) id * DIM + c, e);
                    }
                %s    store_bf16_vec(out + (size_t) t * DIM + c, e);
                }
                """.formatted(tokens, vocab, dim, positions.map(LearnedPositions::seqLen).orElse(1), vectors,
                THREADS, kernelName(), CudaKernel.signature(params()), positionAdd);
        String header = "Embedding forward: " + tokens + " tokens, table [" + vocab + ", " + dim + "]"
                + positions.map(p -> ", plus positions t mod " + p.seqLen() + " from [" + p.maxSeq() + ", " + dim + "]").orElse("")
                + ".";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body),
                LaunchGeometry.linear((int) Math.ceilDiv(vectors, THREADS), THREADS, 0), params());
    }
}

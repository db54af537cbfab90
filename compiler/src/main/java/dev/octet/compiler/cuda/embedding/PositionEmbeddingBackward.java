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
 * Position table gradient {@code grad[p, :] += Σ_b dy[b·seqLen + p, :]} for {@code p < seqLen}, rows from
 * seqLen on untouched: one thread per (position, VEC columns) sums the batch in order, so it is deterministic.
 * (The input gradient of the add is dy itself, passed on without a kernel.)
 *
 * <p>Buffers in order: {@code grad} f32[maxSeq, dim] (read and written), {@code dy} bf16[tokens, dim].
 */
public record PositionEmbeddingBackward(int tokens, int dim, LearnedPositions positions) implements KernelSpec {
    static final int THREADS = 256;

    public PositionEmbeddingBackward {
        Embeddings.checkShape("position embedding backward", tokens, 1, dim, Optional.of(positions));
    }

    @Override
    public String kernelName() {
        return "position_embedding_backward_t" + tokens + "_d" + dim + "_s" + positions.seqLen() + "_m" + positions.maxSeq();
    }

    private static List<KernelParam> params() {
        return List.of(KernelParam.inOut("grad", DType.F32), KernelParam.in("dy", DType.BF16));
    }

    @Override
    public CudaKernel emit() {
        VectorAccess v = VectorAccess.widestDividing(dim);
        int vectors = positions.seqLen() * (dim / v.width());
        String body = v.source() + """

                #define DIM %d
                #define SEQ_LEN %d
                #define BATCH %d

                extern "C" __global__ void __launch_bounds__(%d) %s%s {
                    const int i = blockIdx.x * blockDim.x + threadIdx.x;
                    if (i >= SEQ_LEN * (DIM / VEC)) return;
                    const int p = i / (DIM / VEC);
                    const int c = (i %% (DIM / VEC)) * VEC;
                    float acc[VEC];
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) acc[k] = 0.0f;
                    for (int b = 0; b < BATCH; b++) {
                        float g[VEC];
                        load_bf16_vec(dy + ((size_t) b * SEQ_LEN + p) * DIM + c, g);
                        #pragma unroll
                        for (int k = 0; k < VEC; k++) acc[k] += g[k];
                    }
                    float* row = grad + (size_t) p * DIM + c;
                    float old[VEC];
                    load_f32_vec(row, old);
                    #pragma unroll
                    for (int k = 0; k < VEC; k++) old[k] += acc[k];
                    store_f32_vec(row, old);
                }
                """.formatted(dim, positions.seqLen(), tokens / positions.seqLen(), THREADS, kernelName(),
                CudaKernel.signature(params()));
        String header = "Position embedding backward: grad[p] += sum over the batch of dy at position p, " + tokens
                + " tokens in sequences of " + positions.seqLen() + ", table [" + positions.maxSeq() + ", " + dim + "].";
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(header, body),
                LaunchGeometry.linear(Math.ceilDiv(vectors, THREADS), THREADS, 0), params());
    }
}

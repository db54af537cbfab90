package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import java.util.List;

/**
 * First kernel of the attention backward: {@code delta[b, h, s] = Σ_d dout[t, h, d]·o[t, h, d]} in FP32
 * (FlashAttention-2's D), one warp per (token, head). Both later kernels read it, so it is computed once.
 *
 * <p>Parameters: {@code o, dout, delta}; delta is f32[batch, heads, seq], laid out like lse.
 */
public record AttentionBackwardDelta(AttentionShape shape) implements KernelSpec {
    static final int WARPS = 8;

    @Override
    public String kernelName() {
        // delta does not depend on documents: one kernel serves both masks
        return "attention_backward_delta_" + shape.suffix().replace("_docs", "");
    }

    public List<KernelParam> params() {
        return List.of(KernelParam.in("o", DType.BF16), KernelParam.in("dout", DType.BF16),
                KernelParam.out("delta", DType.F32));
    }

    /** The scratch buffer this kernel writes and the other two backward kernels read. */
    public ScratchBuffer delta() {
        return new ScratchBuffer(KernelParam.out("delta", DType.F32), (long) shape.batch() * shape.heads() * shape.seq());
    }

    @Override
    public CudaKernel emit() {
        String description = """
                Attention backward, delta = rowsum(dout ∘ o) per (token, head) in FP32.
                o, dout: bf16[%d tokens, %d heads × %d]; delta: f32[%d, %d, %d].""".formatted(
                shape.tokens(), shape.heads(), shape.headDim(), shape.batch(), shape.heads(), shape.seq());
        String body = """
                constexpr int BATCH = %d;
                constexpr int SEQ = %d;
                constexpr int HEADS = %d;
                constexpr int HEAD_DIM = %d;
                constexpr int Q_STRIDE = HEADS * HEAD_DIM;  // elements between tokens in o and dout
                constexpr int WARPS = %d;
                """.formatted(shape.batch(), shape.seq(), shape.heads(), shape.headDim(), WARPS) + KERNEL
                .replace("$NAME", kernelName())
                .replace("$SIGNATURE", CudaKernel.signature(params()));
        int rows = shape.tokens() * shape.heads();
        LaunchGeometry launch = LaunchGeometry.linear((rows + WARPS - 1) / WARPS, WARPS * 32, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(WARPS * 32) $NAME$SIGNATURE {
                // One warp per (token, head); rows run token-major like the memory of o and dout.
                const int row = blockIdx.x * WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
                if (row >= BATCH * SEQ * HEADS) return;
                const int token = row / HEADS, head = row % HEADS;
                const bf16_t* o_row = o + (long) token * Q_STRIDE + head * HEAD_DIM;
                const bf16_t* dout_row = dout + (long) token * Q_STRIDE + head * HEAD_DIM;
                float partial = 0.0f;
                for (int d = lane; d < HEAD_DIM; d += 32) partial += bf16_to_f32(o_row[d]) * bf16_to_f32(dout_row[d]);
                const float sum = warp_sum(partial);
                if (lane == 0) {
                    const int batch = token / SEQ, position = token % SEQ;
                    delta[((long) batch * HEADS + head) * SEQ + position] = sum;
                }
            }
            """;
}

package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.attention.FlashAttentionBackward;
import dev.octet.compiler.cuda.attention.AttentionKernels;
import dev.octet.compiler.ir.DType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;

/**
 * Causal flash attention backward as the runtime launches it ({@link FlashAttentionBackward}): delta, then
 * dk/dv, then dq; one "launch" here is that sequence of three kernels. o and lse come from one forward run in
 * setup, so the softmax the backward recomputes is the real one. Rate: TFLOP/s, 2.5 × the forward's count
 * (FlashAttention's convention; the kernels recompute QKᵀ and dO·Vᵀ in both passes, so they execute more).
 *
 * <p>{@code kernel}: {@code mma} is the backward the training step runs (every kernel on mma.sync), {@code wgmma}
 * the one with dk, dv and dq on wgmma + TMA ({@code AttentionKernels.backward(shape, true)}), {@code wgmma_dkdv}
 * dk, dv on wgmma and dq on mma.sync. {@code part}: {@code all} times the three kernels, {@code dkdv} the dk, dv
 * kernel alone at 2 × the forward's count (its four products), {@code dq} the dq kernel alone at 1.5 × (three).
 */
public class FlashAttentionBackwardBenchmark extends GpuKernelBenchmark {
    /** The shapes of {@link AttentionShapes}: gpt2, qwen (2 × 4096, hd128), qwen_8k and llama_8k (2 × 8192). */
    @Param({"gpt2", "qwen", "qwen_8k", "llama_8k"})
    public String shape;

    /** mma: every kernel on mma.sync; wgmma: dk, dv and dq on wgmma + TMA; wgmma_dkdv: dk, dv only. */
    @Param({"mma", "wgmma"})
    public String kernel;

    /** all: delta, dk/dv, dq; dkdv or dq: that kernel alone. */
    @Param({"all"})
    public String part;

    /** none, one (the document-masked kernels, one document) or N (documents of N tokens): {@link AttentionShapes}. */
    @Param({"none"})
    public String documents;

    @Setup(Level.Trial)
    public void setup() {
        open();
        AttentionShape s = AttentionShapes.named(shape, documents);
        FlashAttentionForwardBenchmark.allocate(tensors, s, documents);
        long q = (long) s.tokens() * s.heads() * s.headDim();
        long kv = (long) s.tokens() * s.kvHeads() * s.headDim();
        tensors.uniform("dout", DType.BF16, q, -0.01f, 0.01f)
                .zeros("delta", DType.F32, (long) s.batch() * s.heads() * s.seq())
                .zeros("dq", DType.BF16, q)
                .zeros("dk", DType.BF16, kv)
                .zeros("dv", DType.BF16, kv);
        tensors.bind(AttentionKernels.forward(s).emit()).queue(bench.stream());
        FlashAttentionBackward backward = backward(s, kernel);
        if (part.equals("dkdv") || part.equals("dq")) {
            // delta once, so that the timed kernel reads the real one
            tensors.bind(backward.delta().emit()).queue(bench.stream());
            boolean dkdv = part.equals("dkdv");
            prepare(List.of(tensors.bind((dkdv ? backward.keyValue() : backward.query()).emit())),
                    new KernelTimer.Work.Flops((dkdv ? 2.0 : 1.5) * s.forwardFlops()));
        } else if (part.equals("all")) {
            List<Launch> sequence = backward.kernels().stream().map(k -> tensors.bind(k)).toList();
            prepare(sequence, new KernelTimer.Work.Flops(2.5 * s.forwardFlops()));
        } else {
            throw new IllegalArgumentException("part is all, dkdv or dq, not " + part);
        }
    }

    static FlashAttentionBackward backward(AttentionShape s, String kernel) {
        return switch (kernel) {
            case "mma" -> new FlashAttentionBackward(s);
            case "wgmma" -> AttentionKernels.backward(s, true);
            case "wgmma_dkdv" -> new FlashAttentionBackward(s, true, false);
            default -> throw new IllegalArgumentException("kernel is mma, wgmma or wgmma_dkdv, not " + kernel);
        };
    }
}

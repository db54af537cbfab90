package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.attention.FlashAttentionForward;
import dev.octet.compiler.ir.DType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;

/**
 * Causal flash attention forward ({@link FlashAttentionForward}: BF16 MMA, FP32 online softmax), writing o and
 * the log-sum-exp. Rate: TFLOP/s as FlashAttention counts it (see {@link AttentionShapes#forwardFlops}).
 */
public class FlashAttentionForwardBenchmark extends GpuKernelBenchmark {
    /** gpt2: b8 s1024 h12 d64; qwen: b2 s4096 h12 kv2 d128. */
    @Param({"gpt2", "qwen"})
    public String shape;

    @Setup(Level.Trial)
    public void setup() {
        open();
        AttentionShape s = AttentionShapes.named(shape);
        allocate(tensors, s);
        prepare(List.of(tensors.bind(new FlashAttentionForward(s).emit())),
                new KernelTimer.Work.Flops(AttentionShapes.forwardFlops(s)));
    }

    /** q, k, v filled; o and lse zeroed (the backward benchmark runs the forward once to fill them). */
    static void allocate(DeviceTensors tensors, AttentionShape s) {
        long q = (long) s.tokens() * s.heads() * s.headDim();
        long kv = (long) s.tokens() * s.kvHeads() * s.headDim();
        tensors.uniform("q", DType.BF16, q, -2f, 2f)
                .uniform("k", DType.BF16, kv, -2f, 2f)
                .uniform("v", DType.BF16, kv, -1f, 1f)
                .zeros("o", DType.BF16, q)
                .zeros("lse", DType.F32, (long) s.batch() * s.heads() * s.seq());
    }
}

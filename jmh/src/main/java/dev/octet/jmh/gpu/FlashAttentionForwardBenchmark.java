package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.attention.AttentionKernels;
import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.attention.FlashAttentionForward;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper.Schedule;
import dev.octet.compiler.ir.DType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;

/**
 * Causal flash attention forward, writing o and the log-sum-exp: the kernel {@link AttentionKernels#forward}
 * picks ({@code kernel=selected}), the wgmma + TMA kernel with another ring depth or without the softmax overlap
 * ({@code wgmma}, {@code wgmma_pingpong}, {@code wgmma_serial}, {@code stages}), or the mma.sync kernel ({@code mma},
 * {@link FlashAttentionForward}). Rate: TFLOP/s as FlashAttention counts it (see {@link AttentionShape#forwardFlops}).
 */
public class FlashAttentionForwardBenchmark extends GpuKernelBenchmark {
    /** gpt2: b8 s1024 h12 d64; qwen: b2 s4096 h12 kv2 d128; qwen_8k: b2 s8192 h12 kv2 d128; llama_8k: b2 s8192 h32 kv8 d64. */
    @Param({"gpt2", "qwen", "qwen_8k", "llama_8k"})
    public String shape;

    /** selected (what the compiler launches), wgmma, wgmma_pingpong, wgmma_serial or mma. */
    @Param({"selected"})
    public String kernel;

    /** Ring stages of the wgmma kernels; 0: as many as fit. */
    @Param({"0"})
    public int stages;

    /** none, one (the document-masked kernel, one document) or N (documents of N tokens): {@link AttentionShapes}. */
    @Param({"none"})
    public String documents;

    @Setup(Level.Trial)
    public void setup() {
        open();
        AttentionShape s = AttentionShapes.named(shape, documents);
        allocate(tensors, s, documents);
        prepare(List.of(tensors.bind(spec(s, kernel, stages).emit())),
                new KernelTimer.Work.Flops(s.forwardFlops()));
    }

    static KernelSpec spec(AttentionShape s, String kernel, int stages) {
        int ring = stages == 0 ? FlashAttentionForwardHopper.of(s).stages() : stages;
        return switch (kernel) {
            case "selected" -> AttentionKernels.forward(s);
            case "wgmma" -> new FlashAttentionForwardHopper(s, ring, Schedule.OVERLAPPED);
            case "wgmma_pingpong" -> new FlashAttentionForwardHopper(s, ring, Schedule.PINGPONG);
            case "wgmma_serial" -> new FlashAttentionForwardHopper(s, ring, Schedule.SERIAL);
            case "mma" -> new FlashAttentionForward(s);
            default -> throw new IllegalArgumentException(
                    "kernel is selected, wgmma, wgmma_pingpong, wgmma_serial or mma, not " + kernel);
        };
    }

    /** q, k, v filled, [document ids]; o and lse zeroed (the backward benchmark runs the forward once to fill them). */
    static void allocate(DeviceTensors tensors, AttentionShape s, String documents) {
        if (s.documentMask()) {
            tensors.upload("document_ids", AttentionShapes.documentIds(s, documents));
        }
        long q = (long) s.tokens() * s.heads() * s.headDim();
        long kv = (long) s.tokens() * s.kvHeads() * s.headDim();
        tensors.uniform("q", DType.BF16, q, -2f, 2f)
                .uniform("k", DType.BF16, kv, -2f, 2f)
                .uniform("v", DType.BF16, kv, -1f, 1f)
                .zeros("o", DType.BF16, q)
                .zeros("lse", DType.F32, (long) s.batch() * s.heads() * s.seq());
    }
}

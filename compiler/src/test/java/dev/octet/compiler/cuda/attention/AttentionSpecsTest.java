package dev.octet.compiler.cuda.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.attention.RopeKernel.Direction;
import dev.octet.compiler.cuda.attention.RopeKernel.Positions;
import dev.octet.compiler.ir.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Shapes, parameters, launch geometry, scratch sizes and deterministic sources of the attention specs. */
class AttentionSpecsTest {
    private static final AttentionShape QWEN = new AttentionShape(1, 4096, 12, 2, 128, true);
    private static final AttentionShape GPT2 = new AttentionShape(1, 1024, 12, 12, 64, false);

    private static List<String> names(List<KernelParam> params) {
        return params.stream().map(KernelParam::name).toList();
    }

    @Test
    void badShapesAreRefusedWithTheReason() {
        assertMessage("seq must be a positive multiple of 64", () -> new AttentionShape(1, 100, 4, 2, 64, false));
        assertMessage("heads (6) must be a positive multiple of kvHeads (4)", () -> new AttentionShape(1, 128, 6, 4, 64, false));
        assertMessage("headDim must be 64 or 128", () -> new AttentionShape(1, 128, 4, 4, 96, false));
        assertMessage("batch must be at least 1", () -> new AttentionShape(0, 128, 4, 4, 64, false));
        assertMessage("tokens (100) must be a positive multiple of seq (64)",
                () -> new RopeKernel(Direction.FORWARD, 100, 64, 4, 64, 10000, Positions.IN_SEQUENCE, false));
        assertMessage("headDim must be even",
                () -> new RopeKernel(Direction.FORWARD, 128, 64, 4, 63, 10000, Positions.IN_SEQUENCE, false));
        assertMessage("theta must be a finite number above 1",
                () -> new RopeKernel(Direction.FORWARD, 128, 64, 4, 64, 0.5, Positions.IN_SEQUENCE, false));
        assertMessage("tokens (96) must be a positive multiple of seq (64)", () -> new DocumentPositionsKernel(96, 64));
    }

    private static void assertMessage(String expected, Runnable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct::run);
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }

    @Test
    void parametersInSignatureOrder() {
        assertEquals(List.of("q", "k", "v", "document_ids", "o", "lse"), names(new FlashAttentionForward(QWEN).params()));
        assertEquals(List.of("q", "k", "v", "o", "lse"), names(new FlashAttentionForward(GPT2).params()));
        assertEquals(List.of("o", "dout", "delta"), names(new AttentionBackwardDelta(QWEN).params()));
        assertEquals(List.of("q", "k", "v", "dout", "lse", "delta", "document_ids", "dk", "dv"),
                names(new FlashAttentionBackwardKeyValue(QWEN).params()));
        assertEquals(List.of("q", "k", "v", "dout", "lse", "delta", "dq"), names(new FlashAttentionBackwardQuery(GPT2).params()));
        assertEquals(List.of("x", "positions"),
                names(new RopeKernel(Direction.FORWARD, 4096, 4096, 12, 128, 1e6, Positions.IN_DOCUMENT, true).params()));
        assertEquals(List.of("x", "out"),
                names(new RopeKernel(Direction.BACKWARD, 1024, 1024, 12, 64, 1e4, Positions.IN_SEQUENCE, false).params()));
        assertEquals(KernelParam.Access.READ_WRITE,
                new RopeKernel(Direction.FORWARD, 128, 128, 4, 64, 1e4, Positions.IN_SEQUENCE, true).params().getFirst().access());
        assertEquals(List.of("document_ids", "positions"), names(new DocumentPositionsKernel(512, 128).params()));
    }

    @Test
    void backwardListsItsKernelsInLaunchOrderWithItsScratch() {
        FlashAttentionBackward backward = new FlashAttentionBackward(QWEN);
        assertEquals(List.of(
                        "attention_backward_delta_b1_s4096_h12_kv2_d128",
                        "flash_attention_backward_dkdv_b1_s4096_h12_kv2_d128_docs",
                        "flash_attention_backward_dq_b1_s4096_h12_kv2_d128_docs"),
                backward.kernels().stream().map(CudaKernel::name).toList());
        ScratchBuffer delta = backward.scratch().getFirst();
        assertEquals(1, backward.scratch().size());
        assertEquals("delta", delta.param().name());
        assertEquals(DType.F32, delta.param().dtype());
        assertEquals(12L * 4096, delta.elements());
        assertEquals(4L * 12 * 4096, delta.bytes());
    }

    @Test
    void launchGeometryCoversEveryTile() {
        CudaKernel forward = new FlashAttentionForward(QWEN).emit();
        assertEquals(List.of(64, 12, 1, 128), List.of(forward.launch().gridX(), forward.launch().gridY(),
                forward.launch().gridZ(), forward.launch().threadsPerBlock()));
        CudaKernel keyValue = new FlashAttentionBackwardKeyValue(new AttentionShape(4, 128, 4, 2, 64, true)).emit();
        assertEquals(List.of(2, 2, 4), List.of(keyValue.launch().gridX(), keyValue.launch().gridY(), keyValue.launch().gridZ()));
        CudaKernel delta = new AttentionBackwardDelta(GPT2).emit();
        assertEquals(1024 * 12, delta.launch().gridX() * delta.launch().threadsPerBlock() / 32);
        CudaKernel rope = new RopeKernel(Direction.FORWARD, 4096, 4096, 12, 128, 1e6, Positions.IN_SEQUENCE, false).emit();
        assertEquals(4096 * 64, rope.launch().gridX() * rope.launch().threadsPerBlock());
        assertEquals(0, forward.launch().sharedBytes());
    }

    @Test
    void equalSpecsEmitEqualSourcesAndDifferentShapesDifferentNames() {
        List<KernelSpec> specs = List.of(new FlashAttentionForward(QWEN), new AttentionBackwardDelta(QWEN),
                new FlashAttentionBackwardKeyValue(QWEN), new FlashAttentionBackwardQuery(QWEN),
                new RopeKernel(Direction.BACKWARD, 4096, 4096, 2, 128, 1e6, Positions.IN_DOCUMENT, false),
                new DocumentPositionsKernel(4096, 4096));
        for (KernelSpec spec : specs) {
            assertEquals(spec.emit(), spec.emit());
        }
        assertEquals(specs.size(), specs.stream().map(KernelSpec::kernelName).distinct().count());
        AttentionShape noDocs = new AttentionShape(1, 4096, 12, 2, 128, false);
        assertTrue(!new FlashAttentionForward(noDocs).kernelName().equals(new FlashAttentionForward(QWEN).kernelName()));
    }

    @Test
    void ropeBakesTheOracleInverseFrequencies() {
        RopeKernel rope = new RopeKernel(Direction.FORWARD, 128, 128, 4, 64, 10000, Positions.IN_SEQUENCE, false);
        double[] inv = rope.inverseFrequencies();
        assertEquals(32, inv.length);
        assertEquals(1.0, inv[0]);
        assertEquals(1.0 / Math.pow(10000, 62.0 / 64), inv[31]);
        String source = rope.emit().source();
        assertTrue(source.contains(Double.toString(inv[31])));
        assertTrue(source.contains("DIRECTION = 1.0"));
        assertTrue(new RopeKernel(Direction.BACKWARD, 128, 128, 4, 64, 10000, Positions.IN_SEQUENCE, false)
                .emit().source().contains("DIRECTION = -1.0"));
    }
}

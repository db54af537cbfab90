package dev.octet.compiler.cuda.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.Nvcc;
import dev.octet.compiler.cuda.TensorMapView;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Hopper dq kernel: its parameter contract matches the mma.sync kernel's (names, order, tensor maps over q,
 * k, v, dout at a head's columns), its grid and shared memory are sized as documented, the backward keeps the
 * mma.sync kernel unless asked for this one, and every variant of the example models and the GPU tests compiles
 * for sm_90a with no spill, no stack frame and no ptxas warning of a serialised wgmma or an ignored setmaxnreg.
 */
class FlashAttentionBackwardQueryHopperTest {
    private static final AttentionShape QWEN_8K = new AttentionShape(2, 8192, 12, 2, 128, false);
    private static final AttentionShape RAGGED_DOCS = new AttentionShape(3, 320, 4, 2, 64, true);

    @Test
    void parametersMatchTheMmaKernelsAndReadQkvDoutThroughTensorMaps() {
        for (AttentionShape shape : List.of(QWEN_8K, RAGGED_DOCS)) {
            List<KernelParam> hopper = FlashAttentionBackwardQueryHopper.of(shape).params();
            List<KernelParam> mma = new FlashAttentionBackwardQuery(shape).params();
            assertEquals(mma.stream().map(KernelParam::name).toList(), hopper.stream().map(KernelParam::name).toList());
            assertEquals(mma.stream().map(KernelParam::dtype).toList(), hopper.stream().map(KernelParam::dtype).toList());
            assertEquals(mma.stream().map(KernelParam::access).toList(), hopper.stream().map(KernelParam::access).toList());
        }
        List<KernelParam> params = FlashAttentionBackwardQueryHopper.of(QWEN_8K).params();
        TensorMapView.Swizzle b128 = TensorMapView.Swizzle.B128;
        assertEquals(new TensorMapView(16384, 12 * 128, 128, 64, b128), params.get(0).tensorMap().orElseThrow());
        assertEquals(new TensorMapView(16384, 2 * 128, 64, 64, b128), params.get(1).tensorMap().orElseThrow());
        assertEquals(new TensorMapView(16384, 2 * 128, 64, 64, b128), params.get(2).tensorMap().orElseThrow());
        assertEquals(new TensorMapView(16384, 12 * 128, 128, 64, b128), params.get(3).tensorMap().orElseThrow());
        assertTrue(params.get(4).tensorMap().isEmpty());
    }

    @Test
    void oneBlockPerQueryTileHeadAndSequence() {
        CudaKernel qwen = FlashAttentionBackwardQueryHopper.of(QWEN_8K).emit();
        // 64 query tiles x 12 heads x 2 sequences; q, dout (32 KiB each) + 4 stages of k, v (16 KiB each)
        // + 1 KiB alignment + 11 mbarriers + a flag
        assertEquals(LaunchGeometry.linear(64 * 12 * 2, 384, 1024 + 65536 + 4 * 32768 + 8 * 11 + 8), qwen.launch());
        assertTrue(qwen.source().contains("wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16"));
        assertTrue(qwen.source().contains("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16"));
        // 320 = 2.5 query tiles of 128; document ranges of its 5 tiles of 64.
        CudaKernel ragged = FlashAttentionBackwardQueryHopper.of(RAGGED_DOCS).emit();
        assertEquals(LaunchGeometry.linear(3 * 4 * 3, 384, 1024 + 32768 + 4 * 16384 + 8 * 11 + 8 + 5 * 8), ragged.launch());
        assertEquals("flash_attention_backward_dq_wgmma_b3_s320_h4_kv2_d64_docs_s4", ragged.name());
        assertThrows(IllegalArgumentException.class, () -> new FlashAttentionBackwardQueryHopper(QWEN_8K, 6));
    }

    @Test
    void theBackwardKeepsTheMmaKernelUnlessAskedFor() {
        assertInstanceOf(FlashAttentionBackwardQuery.class, new FlashAttentionBackward(QWEN_8K).query());
        assertInstanceOf(FlashAttentionBackwardQuery.class, new FlashAttentionBackward(QWEN_8K, true, false).query());
        assertInstanceOf(FlashAttentionBackwardQueryHopper.class, AttentionKernels.backward(QWEN_8K, true).query());
    }

    static Stream<FlashAttentionBackwardQueryHopper> variants() {
        return Stream.of(
                        new AttentionShape(8, 1024, 12, 12, 64, false),   // GPT-2
                        new AttentionShape(2, 8192, 12, 2, 128, false),   // Qwen2.5-1.5B
                        new AttentionShape(2, 8192, 12, 2, 128, true),
                        new AttentionShape(2, 8192, 32, 8, 64, false),    // Llama-3.2-1B
                        new AttentionShape(4, 128, 4, 2, 64, true),       // tiny
                        new AttentionShape(3, 320, 4, 2, 128, true),      // ragged, documents
                        new AttentionShape(2, 1088, 12, 2, 64, true))
                .map(FlashAttentionBackwardQueryHopper::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void compilesOnTheFastPath(FlashAttentionBackwardQueryHopper spec) {
        CudaKernel kernel = spec.emit();
        Nvcc.Usage usage = Nvcc.compileWithoutSpills(kernel);
        assertFalse(usage.log().matches("(?s).*C75(0[89]|1[0-9]|2[0-9]).*"), () -> kernel.name() + " slow path:\n" + usage.log());
        assertTrue(usage.log().contains(" 0 bytes stack frame"), () -> kernel.name() + " has a stack frame:\n" + usage.log());
        System.out.printf("%s: %d registers at entry, no spills%n", kernel.name(), usage.registers());
    }
}

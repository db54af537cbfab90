package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardKeyValueHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardQueryHopper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Hopper attention backward kernels (dk and dv, dq), at headDim 64 and 128, with and without a document mask, with
 * every kv head shared by 6 query heads or by one, and at the GPU test's document-masked shapes, compiles with NVRTC 12 (the runtime's compiler) with no
 * spill, no stack frame and no ptxas warning of a serialised wgmma or an ignored setmaxnreg. Run with
 * LD_LIBRARY_PATH=$(.ci/fetch-nvrtc) and -Dgroups=nvrtc.
 */
@Tag("nvrtc")
class AttentionBackwardNvrtcTest {
    @Test
    void backwardKernelsCompileOnTheFastPath() {
        assertTrue(ForeignLibrary.open(JCudaNvrtc.LIBRARY).isPresent(),
                "libnvrtc.so.12 must be on LD_LIBRARY_PATH (.ci/fetch-nvrtc prints its folder)");
        JCudaNvrtc nvrtc = new JCudaNvrtc();
        assertEquals(12, nvrtc.version().major());
        List<AttentionShape> shapes = new ArrayList<>();
        for (int headDim : new int[] {64, 128}) {
            for (boolean documents : new boolean[] {false, true}) {
                for (int kvHeads : new int[] {2, 12}) {
                    shapes.add(new AttentionShape(2, 8192, 12, kvHeads, headDim, documents));
                }
            }
        }
        // Shapes of the GPU test: tiny, ragged key tiles, rings wrapped many times.
        shapes.addAll(List.of(new AttentionShape(4, 128, 4, 2, 64, true), new AttentionShape(3, 320, 4, 2, 128, true),
                new AttentionShape(2, 1088, 12, 2, 64, true), new AttentionShape(4, 1088, 4, 2, 128, true)));
        List<String> problems = new ArrayList<>();
        for (AttentionShape shape : shapes) {
            for (CudaKernel kernel : List.of(FlashAttentionBackwardKeyValueHopper.of(shape).emit(),
                    FlashAttentionBackwardQueryHopper.of(shape).emit())) {
                CompiledKernel compiled = nvrtc.compile(kernel, KernelCompiler.HOPPER, List.of());
                System.out.println(compiled);
                problems.addAll(compiled.slowPaths(kernel.source()));
            }
        }
        assertTrue(problems.isEmpty(), "under " + nvrtc.description() + ":\n" + String.join("\n", problems));
    }
}

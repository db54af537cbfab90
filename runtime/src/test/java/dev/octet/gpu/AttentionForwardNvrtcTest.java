package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper.Schedule;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every schedule of the Hopper attention forward, at headDim 64 and 128, with and without a document mask,
 * compiles with NVRTC 12 (the runtime's compiler) with no spill, no stack frame and no ptxas warning of a
 * serialised wgmma or an ignored setmaxnreg. NVRTC 12.6's ptxas is stricter here than CUDA 13's: a trap in a
 * consumer branch cost it up to 0.9 KB of spills that nvcc 13 did not show. Run with
 * LD_LIBRARY_PATH=$(.ci/fetch-nvrtc) and -Dgroups=nvrtc.
 */
@Tag("nvrtc")
class AttentionForwardNvrtcTest {
    @Test
    void everyScheduleCompilesOnTheFastPath() {
        assertTrue(ForeignLibrary.open(JCudaNvrtc.LIBRARY).isPresent(),
                "libnvrtc.so.12 must be on LD_LIBRARY_PATH (.ci/fetch-nvrtc prints its folder)");
        JCudaNvrtc nvrtc = new JCudaNvrtc();
        assertEquals(12, nvrtc.version().major());
        List<String> problems = new ArrayList<>();
        for (int headDim : new int[] {64, 128}) {
            for (boolean documents : new boolean[] {false, true}) {
                AttentionShape shape = new AttentionShape(2, 8192, 12, 2, headDim, documents);
                for (Schedule schedule : Schedule.values()) {
                    CudaKernel kernel = FlashAttentionForwardHopper.of(shape, schedule).emit();
                    CompiledKernel compiled = nvrtc.compile(kernel, KernelCompiler.HOPPER, List.of());
                    System.out.println(compiled);
                    problems.addAll(compiled.slowPaths(kernel.source()));
                }
            }
        }
        assertTrue(problems.isEmpty(), "under " + nvrtc.description() + ":\n" + String.join("\n", problems));
    }
}

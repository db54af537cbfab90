package dev.octet.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** CI's kernel check reads slow paths out of the compile: spills everywhere, and for wgmma kernels more. */
class CompiledKernelSlowPathTest {
    private static final String WGMMA_SOURCE = "asm volatile(\"wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 ...\");";

    private static CompiledKernel compiled(String log, PtxasUsage usage) {
        return new CompiledKernel("k", "sm_90a", new byte[] {1}, log, usage, 1);
    }

    @Test
    void aCleanWgmmaKernelHasNone() {
        assertEquals(List.of(), compiled("ptxas info    : Used 168 registers", new PtxasUsage(168, 0, 0, 0))
                .slowPaths(WGMMA_SOURCE));
    }

    @Test
    void serialisedWgmmaAndIgnoredRegisterCapsAreSlowPaths() {
        String log = """
                ptxas info    : Compiling entry function 'k' for 'sm_90a'
                ptxas warning : (C7515) Potential Performance Loss: wgmma.mma_async instructions are serialized due to the presence of Extern calls
                ptxas warning : (C7508) Potential Performance Loss: setmaxnreg ignored; unable to determine register count at entry
                ptxas info    : Used 168 registers""";
        List<String> problems = compiled(log, new PtxasUsage(168, 0, 0, 0)).slowPaths(WGMMA_SOURCE);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("C7515") && problems.get(1).contains("C7508"), problems.toString());
    }

    @Test
    void spillsAlwaysAndStackFramesOfWgmmaKernelsAreSlowPaths() {
        PtxasUsage usage = new PtxasUsage(255, 64, 32, 32);
        assertEquals(List.of("k spills 64 bytes", "k has a 64-byte stack frame"), compiled("", usage).slowPaths(WGMMA_SOURCE));
        assertEquals(List.of("k spills 64 bytes"), compiled("", usage).slowPaths("mma.sync ..."));
    }
}

package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real NVRTC, no GPU: run with LD_LIBRARY_PATH=$(.ci/fetch-nvrtc) and -Dgroups=nvrtc. Both bindings compile
 * the same prelude-based kernel for sm_90a; CUDA 13's libnvrtc.so.13 is tried where it exists.
 */
@Tag("nvrtc")
class NvrtcCompileTest {

    static CudaKernel quantizeKernel() {
        List<KernelParam> params = List.of(KernelParam.in("x", DType.F32), KernelParam.out("y", DType.E4M3),
                KernelParam.scalar("n", DType.I32), KernelParam.scalar("inv_scale", DType.F32));
        String body = """
                extern "C" __global__ void quantize_e4m3%s {
                    int i = blockIdx.x * blockDim.x + threadIdx.x;
                    if (i < n) y[i] = f32_to_e4m3(x[i] * inv_scale);
                }
                """.formatted(CudaKernel.signature(params));
        return new CudaKernel("quantize_e4m3",
                CudaPrelude.kernelSource("E4M3 encode of n floats, one per thread.", body),
                LaunchGeometry.linear(4, 256, 0), params);
    }

    private static void assertCompiles(KernelCompiler nvrtc) {
        CompiledKernel k = nvrtc.compile(quantizeKernel(), KernelCompiler.HOPPER, List.of());
        System.out.println(nvrtc.description() + ": " + k);
        assertTrue(k.cubin().length > 256, "a CUBIN");
        assertEquals(0x7F, k.cubin()[0] & 0xff, "ELF magic");
        assertTrue(k.registers() > 0, "registers parsed from " + k.log());
        assertEquals(0, k.spillBytes(), "no spills");
    }

    @Test
    void jcudaBindingCompilesWithNvrtc12() {
        assertTrue(ForeignLibrary.open(JCudaNvrtc.LIBRARY).isPresent(),
                "libnvrtc.so.12 must be on LD_LIBRARY_PATH (.ci/fetch-nvrtc prints its folder)");
        JCudaNvrtc nvrtc = new JCudaNvrtc();
        assertEquals(12, nvrtc.version().major());
        assertCompiles(nvrtc);
    }

    @Test
    void foreignBindingCompilesWithNvrtc12() {
        ForeignNvrtc nvrtc = ForeignNvrtc.open("libnvrtc.so.12").orElseThrow();
        assertEquals(12, nvrtc.version().major());
        assertCompiles(nvrtc);
    }

    @Test
    void foreignBindingCompilesWithNvrtc13WhereInstalled() {
        Optional<ForeignNvrtc> nvrtc = ForeignNvrtc.open("libnvrtc.so.13");
        assumeTrue(nvrtc.isPresent(), "no libnvrtc.so.13 on this machine");
        assertEquals(13, nvrtc.get().version().major());
        assertCompiles(nvrtc.get());
    }

    @Test
    void bothBindingsGiveTheSameCubin() {
        CudaKernel kernel = quantizeKernel();
        byte[] viaJCuda = new JCudaNvrtc().compile(kernel, KernelCompiler.HOPPER, List.of()).cubin();
        byte[] viaForeign = ForeignNvrtc.open("libnvrtc.so.12").orElseThrow()
                .compile(kernel, KernelCompiler.HOPPER, List.of()).cubin();
        assertTrue(java.util.Arrays.equals(viaJCuda, viaForeign));
    }

    @Test
    void compileErrorNamesKernelShowsLinesAndSavesSource(@TempDir Path failed) throws Exception {
        String source = CudaPrelude.kernelSource("broken on purpose", """
                extern "C" __global__ void broken(float* y) {
                    y[threadIdx.x] = undefined_value;
                }
                """);
        for (KernelCompiler nvrtc : List.of(new JCudaNvrtc(failed),
                ForeignNvrtc.open("libnvrtc.so.12", failed).orElseThrow())) {
            NvrtcCompileException e = assertThrows(NvrtcCompileException.class,
                    () -> nvrtc.compile("broken", source, KernelCompiler.HOPPER, List.of()));
            System.out.println(e.getMessage());
            assertTrue(e.getMessage().startsWith("kernel broken does not compile for sm_90a"));
            assertTrue(e.getMessage().contains("undefined_value"));
            assertTrue(e.getMessage().contains("  > "), "offending line marked");
            assertEquals(source, Files.readString(e.savedSource()));
        }
    }

    @Test
    void factoryPicksJCudaWhereNvrtc12Loads() {
        assertTrue(NvrtcCompilers.open() instanceof JCudaNvrtc);
    }

    @Test
    void cacheIsColdThenWarm(@TempDir Path dir) {
        KernelCompiler nvrtc = NvrtcCompilers.open();
        CompileCache cache = new CompileCache(nvrtc, dir, KernelCompiler.HOPPER, List.of());
        CudaKernel kernel = quantizeKernel();
        CompileReport cold = cache.compileAll(List.of(kernel));
        CompileReport warm = cache.compileAll(List.of(kernel));
        System.out.println(cold.summary() + " | " + warm.summary());
        assertEquals(1, cold.misses());
        assertTrue(warm.warm());
        assertEquals(cold.kernels(), warm.kernels());
    }
}

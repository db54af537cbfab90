package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;

import java.util.ArrayList;
import java.util.List;

/**
 * CUDA C++ source to CUBIN. Implementations are NVRTC through JCuda ({@link JCudaNvrtc}) or through
 * java.lang.foreign ({@link ForeignNvrtc}); {@link NvrtcCompilers#open()} picks one. Safe to call from
 * several threads at once: each call is its own NVRTC program.
 */
public interface KernelCompiler {

    /** The architecture of the H100/H200 with wgmma and setmaxnreg. */
    String HOPPER = "sm_90a";

    NvrtcVersion version();

    /** Which library does the work, for logs: {@code NVRTC 12.6 via JCuda (libnvrtc.so.12)}. */
    String description();

    /**
     * Compiles {@code source}, whose {@code extern "C" __global__} entry is {@code name}, for {@code arch}
     * with {@link #commandLine} of {@code options}.
     *
     * @throws NvrtcCompileException when the source does not compile: names the kernel, shows the offending
     *                               lines, and says where the source was saved
     * @throws NvrtcException        when an NVRTC call fails for another reason
     */
    CompiledKernel compile(String name, String source, String arch, List<String> options);

    default CompiledKernel compile(CudaKernel kernel, String arch, List<String> options) {
        return compile(kernel.name(), kernel.source(), arch, options);
    }

    /**
     * The NVRTC options a compile uses: the architecture, device code by default, ptxas's resource report
     * (registers and spills are read from it), then {@code options}.
     */
    static List<String> commandLine(String arch, List<String> options) {
        List<String> all = new ArrayList<>(List.of("--gpu-architecture=" + arch, "-default-device",
                "--ptxas-options=-v"));
        all.addAll(options);
        return List.copyOf(all);
    }
}

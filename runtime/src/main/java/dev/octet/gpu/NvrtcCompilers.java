package dev.octet.gpu;

import java.nio.file.Path;

/**
 * Picks the NVRTC a process uses: JCuda's binding where libnvrtc.so.12 loads (CUDA 12.6, what JCuda 12.6
 * was built for), else libnvrtc.so.13 through java.lang.foreign (the GPU machine's CUDA 13 toolkit), else a
 * one-line error saying how to get one.
 */
public final class NvrtcCompilers {
    private NvrtcCompilers() {}

    public static KernelCompiler open() {
        return open(NvrtcCompilation.defaultFailedSourceDirectory());
    }

    /** @param failedSourceDirectory where sources that do not compile are saved */
    public static KernelCompiler open(Path failedSourceDirectory) {
        // Loading the library through java.lang.foreign first makes JCuda's own load of it a no-op check
        // rather than an UnsatisfiedLinkError.
        if (ForeignLibrary.open(JCudaNvrtc.LIBRARY).isPresent()) {
            return new JCudaNvrtc(failedSourceDirectory);
        }
        return ForeignNvrtc.open("libnvrtc.so.13", failedSourceDirectory)
                .<KernelCompiler>map(nvrtc -> nvrtc)
                .orElseThrow(() -> new IllegalStateException("no NVRTC: neither " + JCudaNvrtc.LIBRARY
                        + " nor libnvrtc.so.13 loads; run .ci/fetch-nvrtc and put its folder on LD_LIBRARY_PATH"));
    }
}

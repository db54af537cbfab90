package dev.octet.gpu;

import java.util.List;

/**
 * What {@link CompileCache#compileAll} did: the kernels in the order asked, how many came from the cache,
 * how many NVRTC compiled, the wall time of the whole call and the NVRTC time summed over the misses.
 * A run with misses is a cold start; one with none is what every later start costs.
 */
public record CompileReport(List<CompiledKernel> kernels, int hits, int misses, long wallMillis,
                            long compileMillis, int threads) {
    public CompileReport {
        kernels = List.copyOf(kernels);
    }

    public boolean warm() {
        return misses == 0;
    }

    public String summary() {
        return kernels.size() + " kernels in " + wallMillis + " ms (" + (warm() ? "warm" : "cold") + "): "
                + hits + " from the cache, " + misses + " compiled"
                + (misses == 0 ? "" : " (" + compileMillis + " ms of NVRTC on " + threads + " threads)");
    }
}

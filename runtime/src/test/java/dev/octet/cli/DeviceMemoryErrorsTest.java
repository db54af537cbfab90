package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.gpu.CudaException;
import dev.octet.train.DeviceMemoryShortfallException;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The GPU's memory running short is one line, whether refused before allocating or reported by the driver. */
class DeviceMemoryErrorsTest {
    @Test
    void anOutOfMemoryFromTheDriverIsOneLineSayingWhatToMakeSmaller() {
        CudaException oom = new CudaException("cuMemAlloc(68719476736)", Optional.empty(), 2, "CUDA_ERROR_OUT_OF_MEMORY");
        assertEquals(Optional.of("the GPU ran out of memory (cuMemAlloc(68719476736) failed: CUDA_ERROR_OUT_OF_MEMORY (2));"
                + " make the run smaller: a smaller micro_batch, or recompute = [norm, activation] in the recipe (octet compile"
                + " prints the planned device memory), or free the device of other processes"), DeviceMemoryErrors.describe(oom));
    }

    @Test
    void aLaunchOutOfMemoryBehindAWorkerThreadIsFoundToo() {
        CudaException launch = new CudaException("cuLaunchKernel", Optional.of("gemm_fp8"), 2, "CUDA_ERROR_OUT_OF_MEMORY");
        String line = DeviceMemoryErrors.describe(new CompletionException(new RuntimeException(launch))).orElseThrow();
        assertTrue(line.startsWith("the GPU ran out of memory (cuLaunchKernel for kernel gemm_fp8 failed"), line);
        assertTrue(!line.contains("\n"));
    }

    @Test
    void aRefusalBeforeAllocatingKeepsItsLine() {
        assertEquals(Optional.of("the GPU has too little free memory for this run: the step needs more"),
                DeviceMemoryErrors.describe(new DeviceMemoryShortfallException("the step needs more")));
    }

    @Test
    void otherDriverErrorsAreNotAboutMemory() {
        assertTrue(DeviceMemoryErrors.describe(new CudaException("cuCtxSynchronize", Optional.empty(), 700,
                "CUDA_ERROR_ILLEGAL_ADDRESS")).isEmpty());
        assertTrue(DeviceMemoryErrors.describe(new IllegalStateException("other")).isEmpty());
    }

    @Test
    void theExitCodeIsItsOwn() {
        assertEquals(5, ExitCodes.DEVICE_OUT_OF_MEMORY);
        assertTrue(ExitCodes.DEVICE_OUT_OF_MEMORY != ExitCodes.OUT_OF_MEMORY);
    }
}

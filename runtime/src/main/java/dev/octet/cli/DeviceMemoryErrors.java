package dev.octet.cli;

import dev.octet.gpu.CudaException;
import dev.octet.train.DeviceMemoryShortfallException;
import java.util.Optional;

/**
 * The GPU's memory too small for the run: the size of the run against the device, not a bug in Octet, so it is one
 * line and exit code {@link ExitCodes#DEVICE_OUT_OF_MEMORY}, as running out of heap is ({@link HeapErrors}). Either
 * the plan was refused before allocating (the line says what would fit), or the driver answered
 * CUDA_ERROR_OUT_OF_MEMORY to an allocation, a module load or a launch (other processes, or an estimate too low).
 */
final class DeviceMemoryErrors {
    /** CUDA_ERROR_OUT_OF_MEMORY in cuda.h. */
    static final int CUDA_ERROR_OUT_OF_MEMORY = 2;

    private DeviceMemoryErrors() {}

    /** The one line for {@code e} when device memory is what it is about, also behind a worker thread's failure. */
    static Optional<String> describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DeviceMemoryShortfallException shortfall) {
                return Optional.of("the GPU has too little free memory for this run: " + shortfall.getMessage());
            }
            if (t instanceof CudaException cuda && cuda.result() == CUDA_ERROR_OUT_OF_MEMORY) {
                return Optional.of("the GPU ran out of memory (" + cuda.getMessage() + "); make the run smaller: a smaller"
                        + " micro_batch, or recompute = [norm, activation] in the recipe (octet compile prints the planned"
                        + " device memory), or free the device of other processes");
            }
        }
        return Optional.empty();
    }

    /**
     * Prints the one line for a failure of the GPU path (driver, NVRTC, or device memory) and returns the exit
     * code: {@link ExitCodes#DEVICE_OUT_OF_MEMORY} when memory is the cause, else {@link ExitCodes#INVALID_INPUT}.
     */
    static int report(Exception e) {
        Optional<String> memory = describe(e);
        if (memory.isPresent()) {
            System.err.println("octet: error: " + memory.get());
            return ExitCodes.DEVICE_OUT_OF_MEMORY;
        }
        System.err.println("octet: error on the GPU: " + e.getMessage());
        return ExitCodes.INVALID_INPUT;
    }
}

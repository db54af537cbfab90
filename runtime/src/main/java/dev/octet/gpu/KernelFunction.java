package dev.octet.gpu;

import jcuda.driver.CUfunction;

/** An entry point of a {@link LoadedModule}, ready to launch. */
public record KernelFunction(String name, CUfunction handle) {
    long address() {
        return JCudaHandles.address(handle);
    }
}

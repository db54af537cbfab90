package dev.octet.gpu;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.Optional;

/**
 * Checks the CUresult of every JCuda driver call. JCuda's own exceptions would name neither our kernel
 * nor, after inlining, the call reliably; this names both.
 */
final class CudaCheck {
    private CudaCheck() {}

    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call, Optional.empty(), result, errorName(result));
        }
    }

    static void check(int result, String call, String kernel) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call, Optional.of(kernel), result, errorName(result));
        }
    }

    private static String errorName(int result) {
        String[] name = new String[1];
        if (JCudaDriver.cuGetErrorName(result, name) == CUresult.CUDA_SUCCESS && name[0] != null) {
            return name[0];
        }
        return CUresult.stringFor(result);
    }
}

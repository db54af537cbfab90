package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KernelArgumentsTest {
    private final CudaKernel kernel = Kernels.scale(100);

    private String problem(List<KernelArg> args) {
        return assertThrows(IllegalArgumentException.class, () -> KernelArguments.check(kernel, args)).getMessage();
    }

    @Test
    void matchingArgumentsPass() {
        KernelArguments.check(kernel, List.of(new KernelArg.DevicePointer(0x1000), new KernelArg.F32(2f)));
    }

    @Test
    void mismatchesNameTheKernelAndTheParameter() {
        assertEquals("kernel scale_f32_100 takes 2 arguments (float* __restrict__ x, float factor), got 1",
                problem(List.of(new KernelArg.DevicePointer(0x1000))));
        assertEquals("kernel scale_f32_100, argument 1 (float factor): expected an F32 scalar, got I32[value=2]",
                problem(List.of(new KernelArg.DevicePointer(0x1000), new KernelArg.I32(2))));
        assertEquals("kernel scale_f32_100, argument 0 (float* __restrict__ x): a null device pointer",
                problem(List.of(new KernelArg.DevicePointer(0), new KernelArg.F32(2f))));
        assertEquals("kernel scale_f32_100, argument 0 (float* __restrict__ x): address 0x1002 is not aligned to 4 bytes",
                problem(List.of(new KernelArg.DevicePointer(0x1002), new KernelArg.F32(2f))));
        assertEquals("kernel scale_f32_100, argument 0 (float* __restrict__ x): expected a device pointer, got F32[value=1.0]",
                problem(List.of(new KernelArg.F32(1f), new KernelArg.F32(2f))));
    }
}

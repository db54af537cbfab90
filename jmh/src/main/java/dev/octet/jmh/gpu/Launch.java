package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.gpu.CudaStream;
import dev.octet.gpu.KernelArg;
import dev.octet.gpu.KernelFunction;
import dev.octet.gpu.KernelLauncher;

import java.util.List;

/** One kernel with its arguments bound, queued by {@link #queue} with the kernel's own launch geometry. */
public record Launch(CudaKernel kernel, KernelFunction function, List<KernelArg> args) {
    public void queue(CudaStream stream) {
        KernelLauncher.launch(function, kernel, stream, args);
    }
}

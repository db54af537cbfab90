package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.LaunchGeometry;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.util.List;

/** Launches a generated kernel with its own launch geometry, after checking its arguments. */
public final class KernelLauncher {
    private KernelLauncher() {}

    /**
     * Queues {@code kernel} on {@code stream}. Launch errors (bad geometry, too much shared memory) are
     * reported here; errors while it runs surface at the next synchronizing call.
     */
    public static void launch(KernelFunction function, CudaKernel kernel, CudaStream stream, List<KernelArg> args) {
        if (!function.name().equals(kernel.name())) {
            throw new IllegalArgumentException("function " + function.name() + " launched as kernel " + kernel.name());
        }
        KernelArguments.check(kernel, args);
        Pointer[] values = args.stream().map(KernelArg::hostPointer).toArray(Pointer[]::new);
        LaunchGeometry g = kernel.launch();
        CudaCheck.check(JCudaDriver.cuLaunchKernel(function.handle(), g.gridX(), g.gridY(), g.gridZ(),
                g.blockX(), g.blockY(), g.blockZ(), g.sharedBytes(), stream.handle(), Pointer.to(values), null),
                "cuLaunchKernel", kernel.name());
    }
}

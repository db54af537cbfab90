package dev.octet.compiler.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

/** What every generated kernel must satisfy here: a deterministic source that nvcc compiles without spills. */
public final class KernelChecks {
    private KernelChecks() {}

    public static void compilesWithoutSpills(KernelSpec... specs) {
        for (KernelSpec spec : specs) {
            CudaKernel kernel = spec.emit();
            assertEquals(spec.kernelName(), kernel.name());
            assertEquals(kernel, spec.emit(), () -> spec.kernelName() + " emits different kernels for the same spec");
            Nvcc.Usage usage = Nvcc.compileWithoutSpills(kernel);
            System.out.println(kernel.name() + ": " + usage.registers() + " registers, block "
                    + kernel.launch().threadsPerBlock() + ", grid " + kernel.launch().gridX() + "x" + kernel.launch().gridY());
        }
    }

    public static List<String> paramNames(KernelSpec spec) {
        return spec.emit().params().stream().map(KernelParam::name).toList();
    }
}

package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.optim.AdamWHyperparameters;
import dev.octet.compiler.cuda.optim.AdamWStep;
import dev.octet.compiler.ir.DType;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.List;

/**
 * One AdamW step ({@link AdamWStep}) over GPT-2 124M's parameters as one flat buffer: FP32 master weights,
 * gradients (zeroed after the update) and moments, weight decay on, and the BF16 shadow copy the GEMMs read.
 * Rate: GB/s of the least traffic, 34 bytes per parameter (param, grad, m, v read and written; shadow written).
 */
public class AdamWBenchmark extends GpuKernelBenchmark {
    /** GPT-2 124M with the LM head tied to the token embedding. */
    @Param({"124439808"})
    public int parameters;

    @Setup(Level.Trial)
    public void setup() {
        open();
        AdamWHyperparameters hyper = AdamWHyperparameters.llmDefaults();
        AdamWStep step = spec(parameters);
        tensors.uniform("param", DType.F32, parameters, -0.05f, 0.05f)
                .uniform("grad", DType.F32, parameters, -1e-3f, 1e-3f)
                .uniform("m", DType.F32, parameters, -1e-4f, 1e-4f)
                .uniform("v", DType.F32, parameters, 0f, 1e-7f)
                .upload("scalars", hyper.scalarsForStep(1, 6e-4, 1f))
                .zeros("param_bf16", DType.BF16, parameters);
        double bytes = 4.0 * 2 * GpuBench.bytes(DType.F32, parameters) + GpuBench.bytes(DType.BF16, parameters);
        prepare(List.of(tensors.bind(step.emit())), new KernelTimer.Work.Bytes(bytes));
    }

    static AdamWStep spec(int parameters) {
        return new AdamWStep(parameters, AdamWHyperparameters.llmDefaults(), true, DType.F32, true);
    }
}

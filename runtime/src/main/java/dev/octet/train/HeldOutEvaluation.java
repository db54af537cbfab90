package dev.octet.train;

import dev.octet.cpu.exec.Fp8LinearKernel;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.BatchSource;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.DelayedScaling;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Mean loss over held-out batches on the CPU interpreter, measured without changing training: the amax
 * histories of delayed scaling are put back afterwards, so a run evaluated every N steps trains exactly as one
 * that is not. The {@link TrainingLoop} passes the same held-out batches at every evaluation.
 */
final class HeldOutEvaluation {
    private final GraphInterpreter interpreter;
    private final ParameterStore params;
    private final Rounding rounding;
    private final List<String> linears;

    HeldOutEvaluation(ModelSpec model, GraphInterpreter interpreter, ParameterStore params, Rounding rounding) {
        this.interpreter = interpreter;
        this.params = params;
        this.rounding = rounding;
        this.linears = ParameterTable.of(model).linears().stream().map(ParameterTable.Linear::name).toList();
    }

    /** Mean loss over the next {@code batches} batches of {@code sampler}. */
    double loss(BatchSource sampler, int batches) {
        record Saved(Fp8LinearKernel kernel, Map<Gemm, Map<Role, DelayedScaling>> histories) {}
        List<Saved> saved = new ArrayList<>();
        for (String name : linears) {
            if (interpreter.kernel(name) instanceof Fp8LinearKernel fp8) {
                saved.add(new Saved(fp8, fp8.delayedScaling()));
            }
        }
        params.refreshWorking(rounding);
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            sum += interpreter.loss(TokenBatch.of(sampler.next()));
        }
        for (Saved s : saved) {
            s.histories().forEach((gemm, byRole) -> byRole.forEach((role, state) -> s.kernel().restoreDelayedScaling(gemm, role, state)));
        }
        return sum / batches;
    }
}

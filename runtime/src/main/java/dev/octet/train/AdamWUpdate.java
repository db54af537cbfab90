package dev.octet.train;

import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.ops.AdamW;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * One AdamW step over every parameter of a store. Weight decay applies only to parameters whose
 * {@link dev.octet.dsl.spec.ParameterTable.Param#decays} is set: matrices and embeddings, not norm weights or
 * biases, which decay would pull towards zero for no regularizing gain.
 */
final class AdamWUpdate {
    /** AdamW reads FP32 gradients, as on the GPU; one buffer per parameter, reused every step. */
    private final Map<ParameterStore.Entry, float[]> fp32Grads = new IdentityHashMap<>();

    void apply(ParameterStore params, TrainingSpec.AdamW opt, double lr, long optimizerStep) {
        apply(params, opt, lr, optimizerStep, index -> true);
    }

    /** The step for the parameters (by index in {@code params.entries()}) that {@code owned} accepts only. */
    void apply(ParameterStore params, TrainingSpec.AdamW opt, double lr, long optimizerStep, IntPredicate owned) {
        List<ParameterStore.Entry> entries = params.entries();
        for (int index = 0; index < entries.size(); index++) {
            if (!owned.test(index)) {
                continue;
            }
            ParameterStore.Entry e = entries.get(index);
            float[] g = fp32Grads.computeIfAbsent(e, x -> new float[x.grad().length]);
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) e.grad()[i];
            }
            AdamW.step(e.master(), g, e.m(), e.v(), Math.toIntExact(optimizerStep), lr, opt.beta1(), opt.beta2(),
                    opt.eps(), e.param().decays() ? opt.weightDecay() : 0);
        }
    }
}

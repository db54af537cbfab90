package dev.octet.compiler.plan;

import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.QuantizeInsertion;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the runtime needs to drive a compiled step, by role: the host's input and output buffers, every
 * parameter with its master, working copy, gradient and moments, and the state delayed scaling keeps per
 * quantized operand. Emitted with the plan, so the runtime never spells a buffer name.
 */
public record StepInterface(Map<StepBuffer, Value> buffers, List<Parameter> parameters,
                            List<DelayedScalingState> delayedScaling) {
    /** One operand's amax history (f32[history]) and the count of amaxes recorded into it (i32[1]). */
    public record DelayedScalingState(String linear, Gemm gemm, Role role, Value history, Value recorded) {}

    public StepInterface {
        buffers = Map.copyOf(buffers);
        parameters = List.copyOf(parameters);
        delayedScaling = List.copyOf(delayedScaling);
    }

    /**
     * The interface of {@code kernels}, compiled for the model of {@code table} under {@code recipe}: buffers
     * found among those its launches touch (kernel formation adds some, e.g. the recorded-amax counts).
     */
    public static StepInterface of(KernelPlan kernels, ParameterTable table, RecipeSpec recipe) {
        Map<String, Value> byName = kernels.valuesByName();
        List<DelayedScalingState> delayed = new ArrayList<>();
        for (ParameterTable.Linear linear : table.linears()) {
            for (Gemm gemm : Gemm.values()) {
                for (Role role : gemm.operands()) {
                    if (!(recipe.operand(gemm, role).scaling() instanceof Scaling.Delayed)) {
                        continue;
                    }
                    String history = QuantizeInsertion.amaxHistoryName(linear.name(), gemm, role);
                    Value h = byName.get(history);
                    Value r = byName.get(QuantizeInsertion.recordedName(history));
                    if (h != null && r != null) {
                        delayed.add(new DelayedScalingState(linear.name(), gemm, role, h, r));
                    }
                }
            }
        }
        Map<StepBuffer, Value> buffers = new EnumMap<>(StepBuffer.class);
        for (StepBuffer b : StepBuffer.values()) {
            Value v = byName.get(b.bufferName());
            if (v != null) {
                buffers.put(b, v);
            }
        }
        return new StepInterface(buffers, kernels.fused().graph().parameters(), delayed);
    }

    public Optional<Value> buffer(StepBuffer role) {
        return Optional.ofNullable(buffers.get(role));
    }

    /** A buffer every step of this kind has; its absence means the plan is not of that kind. */
    public Value required(StepBuffer role) {
        Value v = buffers.get(role);
        if (v == null) {
            throw new IllegalArgumentException("the compiled step has no " + role.bufferName() + " buffer");
        }
        return v;
    }
}

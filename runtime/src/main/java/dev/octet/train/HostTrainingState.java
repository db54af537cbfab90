package dev.octet.train;

import dev.octet.checkpoint.Tensor;
import dev.octet.checkpoint.TensorNames;
import dev.octet.checkpoint.TensorSource;
import dev.octet.cpu.exec.Fp8LinearKernel;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.DelayedScaling;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

/** The CPU trainer's state: the parameter store's arrays and the interpreter's FP8 layers' amax histories. */
final class HostTrainingState implements TrainingState {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ModelSpec model;
    private final ParameterStore params;
    private final GraphInterpreter interpreter;

    HostTrainingState(ModelSpec model, ParameterStore params, GraphInterpreter interpreter) {
        this.model = model;
        this.params = params;
        this.interpreter = interpreter;
    }

    @Override
    public SequencedMap<String, TensorSource> tensors() {
        SequencedMap<String, TensorSource> tensors = new LinkedHashMap<>();
        for (ParameterStore.Entry e : params.entries()) {
            long[] shape = e.param().shape().stream().mapToLong(Integer::longValue).toArray();
            tensors.put(Part.MASTER.tensorName(e.param().name()), TensorSource.f32(e.master(), shape));
            tensors.put(Part.ADAM_M.tensorName(e.param().name()), TensorSource.f32(e.m(), shape));
            tensors.put(Part.ADAM_V.tensorName(e.param().name()), TensorSource.f32(e.v(), shape));
        }
        for (ParameterTable.Linear linear : ParameterTable.of(model).linears()) {
            if (interpreter.kernel(linear.name()) instanceof Fp8LinearKernel fp8) {
                fp8.delayedScaling().forEach((gemm, byRole) -> byRole.forEach((role, state) -> {
                    tensors.put(TensorNames.amaxHistory(linear.name(), gemm.lowerName(), role.lowerName()),
                            Tensor.f32(state.history(), state.historyLength()));
                    tensors.put(TensorNames.amaxRecorded(linear.name(), gemm.lowerName(), role.lowerName()),
                            Tensor.i64(new long[] {state.recorded()}, 1));
                }));
            }
        }
        return tensors;
    }

    @Override
    public void load(ParameterTable.Param param, Part part, MemorySegment values) {
        ParameterStore.Entry e = params.get(param.name());
        float[] into = switch (part) {
            case MASTER -> e.master();
            case ADAM_M -> e.m();
            case ADAM_V -> e.v();
        };
        MemorySegment.copy(values, F32, 0, into, 0, into.length);
    }

    @Override
    public void restoreDelayedScaling(String linear, Gemm gemm, Role role, DelayedScaling state) {
        if (interpreter.kernel(linear) instanceof Fp8LinearKernel fp8) {
            fp8.restoreDelayedScaling(gemm, role, state);
        }
    }

    @Override
    public void loaded() {
        // The interpreter rounds its working copy from the masters at the start of every step.
    }
}

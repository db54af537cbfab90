package dev.octet.train;

import dev.octet.checkpoint.Tensor;
import dev.octet.checkpoint.TensorNames;
import dev.octet.checkpoint.TensorSource;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.plan.StepInterface;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Role;
import dev.octet.gpu.exec.DeviceStep;
import dev.octet.numerics.DelayedScaling;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * The GPU trainer's state, which lives only in the step's arena: a checkpoint streams each tensor from the
 * device through pinned staging as the file is written, and a restore copies each tensor of the memory-mapped
 * file to the device, so the host never holds more than the staging buffer of it.
 */
final class DeviceTrainingState implements TrainingState {
    private final DeviceStep device;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final List<ParameterTable.Param> params;
    private final List<StepInterface.DelayedScalingState> delayed;

    DeviceTrainingState(DeviceStep device, ModelSpec model) {
        this.device = device;
        device.parameters().forEach(p -> parameters.put(p.name(), p));
        this.params = ParameterTable.of(model).params();
        this.delayed = device.layout().plan().stepInterface().delayedScaling();
    }

    @Override
    public SequencedMap<String, TensorSource> tensors() {
        SequencedMap<String, TensorSource> tensors = new LinkedHashMap<>();
        for (ParameterTable.Param param : params) {
            Parameter p = parameter(param);
            List<Long> shape = param.shape().stream().map(Integer::longValue).toList();
            tensors.put(Part.MASTER.tensorName(param.name()), device.f32Tensor(p.master(), shape));
            tensors.put(Part.ADAM_M.tensorName(param.name()), device.f32Tensor(p.m(), shape));
            tensors.put(Part.ADAM_V.tensorName(param.name()), device.f32Tensor(p.v(), shape));
        }
        for (StepInterface.DelayedScalingState d : delayed) {
            float[] history = device.readF32(d.history());
            int recorded = ByteBuffer.wrap(device.readBytes(d.recorded())).order(ByteOrder.LITTLE_ENDIAN).getInt();
            String gemm = d.gemm().lowerName(), role = d.role().lowerName();
            tensors.put(TensorNames.amaxHistory(d.linear(), gemm, role), Tensor.f32(history, history.length));
            tensors.put(TensorNames.amaxRecorded(d.linear(), gemm, role), Tensor.i64(new long[] {recorded}, 1));
        }
        return tensors;
    }

    @Override
    public void load(ParameterTable.Param param, Part part, MemorySegment values) {
        Parameter p = parameter(param);
        device.loadF32(switch (part) {
            case MASTER -> p.master();
            case ADAM_M -> p.m();
            case ADAM_V -> p.v();
        }, values);
    }

    @Override
    public void restoreDelayedScaling(String linear, Gemm gemm, Role role, DelayedScaling state) {
        for (StepInterface.DelayedScalingState d : delayed) {
            if (d.linear().equals(linear) && d.gemm() == gemm && d.role() == role) {
                device.writeF32(d.history(), state.history());
                device.writeBytes(d.recorded(), ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN)
                        .putInt(Math.toIntExact(state.recorded())).array());
            }
        }
    }

    @Override
    public void loaded() {
        device.refreshWorkingCopies();
    }

    private Parameter parameter(ParameterTable.Param param) {
        Parameter p = parameters.get(param.name());
        if (p == null) {
            throw new IllegalStateException("the compiled step has no parameter " + param.name());
        }
        return p;
    }
}

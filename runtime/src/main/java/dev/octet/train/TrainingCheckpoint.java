package dev.octet.train;

import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.FiniteValues;
import dev.octet.checkpoint.ModelFingerprint;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.SafetensorsWriter;
import dev.octet.checkpoint.Tensor;
import dev.octet.checkpoint.TensorInfo;
import dev.octet.checkpoint.TensorNames;
import dev.octet.cpu.exec.Fp8LinearKernel;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.DelayedScaling;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * The CPU trainer's state as a checkpoint file: FP32 master weights, AdamW moments, the amax histories of
 * delayed scaling, and {@link CheckpointMetadata}. Working copies and gradients are not saved: each step
 * recomputes them from the master weights.
 */
final class TrainingCheckpoint {
    private TrainingCheckpoint() {}

    static void write(FileChannel out, CheckpointMetadata metadata, ParameterStore params, ModelSpec model,
                      GraphInterpreter interpreter) throws IOException {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (ParameterStore.Entry e : params.entries()) {
            long[] shape = e.param().shape().stream().mapToLong(Integer::longValue).toArray();
            tensors.put(TensorNames.master(e.param().name()), Tensor.f32(e.master(), shape));
            tensors.put(TensorNames.adamM(e.param().name()), Tensor.f32(e.m(), shape));
            tensors.put(TensorNames.adamV(e.param().name()), Tensor.f32(e.v(), shape));
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
        SafetensorsWriter.write(out, metadata.toStrings(), tensors);
    }

    /**
     * Checks a checkpoint just written, before it may rotate an older one out: it reads back as safetensors,
     * holds every parameter's master weights and moments in the model's shapes, and every value is finite.
     */
    static void verify(Path file, ModelSpec model) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            CheckpointMetadata.from(file, f.metadata());
            for (ParameterTable.Param p : ParameterTable.of(model).params()) {
                List<Long> shape = p.shape().stream().map(Integer::longValue).toList();
                for (String name : List.of(TensorNames.master(p.name()), TensorNames.adamM(p.name()), TensorNames.adamV(p.name()))) {
                    TensorInfo info = f.find(name).orElseThrow(() -> new CheckpointException(file, "has no tensor " + name));
                    if (!info.shape().equals(shape)) {
                        throw new CheckpointException(file, name + " has shape " + info.shape() + ", the model needs " + shape);
                    }
                }
            }
            FiniteValues.requireAll(f);
        }
    }

    /** The metadata alone, e.g. to check a checkpoint fits before loading data. */
    static CheckpointMetadata readMetadata(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return CheckpointMetadata.from(file, f.metadata());
        }
    }

    /** Refuses a checkpoint of another model, naming both. */
    static void requireSameModel(Path file, CheckpointMetadata metadata, ModelSpec model) throws CheckpointException {
        String fingerprint = ModelFingerprint.of(model);
        if (!metadata.modelFingerprint().equals(fingerprint)) {
            throw new CheckpointException(file, "was written for model " + metadata.model() + " (fingerprint "
                    + metadata.modelFingerprint().substring(0, 12) + "), not for model " + model.name() + " as defined now ("
                    + fingerprint.substring(0, 12) + "); resume with the model it was trained with, or start a new run");
        }
    }

    /** Loads the file's state into freshly built {@code params} and {@code interpreter}, and returns where the run stood. */
    static CheckpointMetadata restore(Path file, ModelSpec model, RecipeSpec recipe, ParameterStore params,
                                      GraphInterpreter interpreter) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            CheckpointMetadata metadata = CheckpointMetadata.from(file, f.metadata());
            requireSameModel(file, metadata, model);
            for (ParameterStore.Entry e : params.entries()) {
                String name = e.param().name();
                copy(f, TensorNames.master(name), e.master(), e.param().shape());
                copy(f, TensorNames.adamM(name), e.m(), e.param().shape());
                copy(f, TensorNames.adamV(name), e.v(), e.param().shape());
            }
            for (ParameterTable.Linear linear : ParameterTable.of(model).linears()) {
                if (interpreter.kernel(linear.name()) instanceof Fp8LinearKernel fp8) {
                    restoreDelayedScaling(f, linear.name(), recipe, fp8);
                }
            }
            return metadata;
        }
    }

    /**
     * Histories come back for every operand the recipe scales with delayed scaling; an operand the
     * checkpoint has no history for (it was trained with another recipe) starts with an empty one.
     */
    private static void restoreDelayedScaling(SafetensorsFile f, String linear, RecipeSpec recipe, Fp8LinearKernel fp8)
            throws IOException {
        for (Gemm gemm : Gemm.values()) {
            for (Role role : gemm.operands()) {
                OperandQuant q = recipe.operand(gemm, role);
                String history = TensorNames.amaxHistory(linear, gemm.lowerName(), role.lowerName());
                if (!(q.scaling() instanceof Scaling.Delayed d) || f.find(history).isEmpty()) {
                    continue;
                }
                float[] amaxes = f.floats(history);
                FiniteValues.require(f.path(), history, amaxes);
                long[] recorded = f.longs(TensorNames.amaxRecorded(linear, gemm.lowerName(), role.lowerName()));
                if (amaxes.length != d.history() || recorded.length != 1) {
                    throw new CheckpointException(f.path(), history + " holds " + amaxes.length
                            + " amaxes; the recipe keeps a history of " + d.history());
                }
                fp8.restoreDelayedScaling(gemm, role, new DelayedScaling(q.format(), d.history(), d.margin(), amaxes, recorded[0]));
            }
        }
    }

    private static void copy(SafetensorsFile f, String name, float[] into, List<Integer> shape) throws IOException {
        TensorInfo info = f.find(name).orElseThrow(() -> new CheckpointException(f.path(), "has no tensor " + name));
        List<Long> expected = shape.stream().map(Integer::longValue).toList();
        if (!info.shape().equals(expected)) {
            throw new CheckpointException(f.path(), name + " has shape " + info.shape() + ", the model needs " + expected);
        }
        float[] values = f.floats(name);
        FiniteValues.require(f.path(), name, values);
        System.arraycopy(values, 0, into, 0, into.length);
    }
}

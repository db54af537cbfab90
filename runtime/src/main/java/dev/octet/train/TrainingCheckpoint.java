package dev.octet.train;

import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.DType;
import dev.octet.checkpoint.FiniteValues;
import dev.octet.checkpoint.ModelFingerprint;
import dev.octet.checkpoint.TensorReader;
import dev.octet.checkpoint.TensorSource;
import dev.octet.checkpoint.SafetensorsWriter;
import dev.octet.checkpoint.TensorInfo;
import dev.octet.checkpoint.TensorNames;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.DelayedScaling;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.SequencedMap;

/**
 * A run's state as a checkpoint file: FP32 master weights, AdamW moments, the amax histories of delayed
 * scaling, and {@link CheckpointMetadata}, read from and written to a {@link TrainingState} on either backend.
 * Working copies and gradients are not saved: they are recomputed from the master weights.
 */
final class TrainingCheckpoint {
    private TrainingCheckpoint() {}

    static void write(FileChannel out, CheckpointMetadata metadata, SequencedMap<String, TensorSource> tensors) throws IOException {
        SafetensorsWriter.write(out, metadata.toStrings(), tensors);
    }

    /**
     * What rank {@code rank} of a data-parallel run writes into its shard of a checkpoint of {@code tensors}: the
     * master weights and moments of the parameters it owns ({@code shards}, over {@code parameters} in their order),
     * and on rank 0 every tensor that is no parameter's (the amax histories).
     */
    static SequencedMap<String, TensorSource> shardOf(SequencedMap<String, TensorSource> tensors, List<String> parameters,
                                                      ParameterShards shards, int rank) {
        Set<String> parameterTensors = new HashSet<>(), owned = new HashSet<>();
        for (int index = 0; index < parameters.size(); index++) {
            for (TrainingState.Part part : TrainingState.Part.values()) {
                String name = part.tensorName(parameters.get(index));
                parameterTensors.add(name);
                if (shards.owns(rank, index)) {
                    owned.add(name);
                }
            }
        }
        SequencedMap<String, TensorSource> mine = new LinkedHashMap<>();
        tensors.forEach((name, tensor) -> {
            if (parameterTensors.contains(name) ? owned.contains(name) : rank == 0) {
                mine.put(name, tensor);
            }
        });
        return mine;
    }

    /**
     * Checks a checkpoint just written, before it may rotate an older one out: it reads back as safetensors,
     * holds every parameter's master weights and moments in the model's shapes, and every value is finite.
     */
    static void verify(Path file, ModelSpec model) throws IOException {
        try (TensorReader f = TensorReader.open(file)) {
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
        try (TensorReader f = TensorReader.open(file)) {
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

    /**
     * Loads the file's state into {@code state} (every parameter's master weights and moments, then the amax
     * histories), each tensor checked for shape and finite values first; returns where the run stood.
     */
    static CheckpointMetadata restore(Path file, ModelSpec model, RecipeSpec recipe, TrainingState state) throws IOException {
        try (TensorReader f = TensorReader.open(file)) {
            CheckpointMetadata metadata = CheckpointMetadata.from(file, f.metadata());
            requireSameModel(file, metadata, model);
            for (ParameterTable.Param param : ParameterTable.of(model).params()) {
                for (TrainingState.Part part : TrainingState.Part.values()) {
                    String name = part.tensorName(param.name());
                    state.load(param, part, checkedF32(f, name, param.shape()));
                }
            }
            for (ParameterTable.Linear linear : ParameterTable.of(model).linears()) {
                restoreDelayedScaling(f, linear.name(), recipe, state);
            }
            state.loaded();
            return metadata;
        }
    }

    /**
     * Histories come back for every operand the recipe scales with delayed scaling; an operand the
     * checkpoint has no history for (it was trained with another recipe) starts with an empty one.
     */
    private static void restoreDelayedScaling(TensorReader f, String linear, RecipeSpec recipe, TrainingState state)
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
                state.restoreDelayedScaling(linear, gemm, role, new DelayedScaling(q.format(), d.history(), d.margin(), amaxes, recorded[0]));
            }
        }
    }

    /** The F32 tensor {@code name} of {@code shape}, in place, every value finite. */
    private static MemorySegment checkedF32(TensorReader f, String name, List<Integer> shape) throws IOException {
        TensorInfo info = f.find(name).orElseThrow(() -> new CheckpointException(f.path(), "has no tensor " + name));
        List<Long> expected = shape.stream().map(Integer::longValue).toList();
        if (!info.shape().equals(expected)) {
            throw new CheckpointException(f.path(), name + " has shape " + info.shape() + ", the model needs " + expected);
        }
        if (info.dtype() != DType.F32) {
            throw new CheckpointException(f.path(), name + " is " + info.dtype() + ", expected F32");
        }
        MemorySegment values = f.segment(name);
        FiniteValues.require(f.path(), name, values);
        return values;
    }
}

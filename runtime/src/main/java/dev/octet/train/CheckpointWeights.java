package dev.octet.train;

import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.checkpoint.CheckpointShards;
import dev.octet.checkpoint.TensorReader;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A trained model's weights read back from a training checkpoint, for inference: the FP32 master weights
 * only (AdamW moments and the data position are training state).
 */
public final class CheckpointWeights {
    private CheckpointWeights() {}

    /** The weights and where the run stood when they were saved. */
    public record Loaded(ParameterStore params, CheckpointMetadata metadata, Path file) {}

    /** {@code path} itself when it is a file, else the latest checkpoint of the run directory {@code path}. */
    public static Path resolve(Path path) throws IOException {
        if (Files.isRegularFile(path) || CheckpointShards.isShardDirectory(path)) {
            return path;
        }
        CheckpointDirectory run = CheckpointDirectory.of(path, CheckpointDirectory.DEFAULT_KEEP);
        return run.latest().map(CheckpointDirectory.Entry::file)
                .orElseThrow(() -> new CheckpointException(path, "is neither a checkpoint file nor a run directory with one in "
                        + CheckpointDirectory.NAME + "/"));
    }

    /** A checkpoint's metadata, and its master weights as a source read one tensor at a time when handed over. */
    public record Streamed(MasterWeights.Source weights, CheckpointMetadata metadata, Path file) {}

    /**
     * The master weights of {@code file} without reading them yet: the metadata is read and the model checked now,
     * each tensor is read, checked and handed over when the source is asked (a device load: no host copy).
     */
    public static Streamed stream(Path file, ModelSpec model) throws IOException {
        CheckpointMetadata metadata;
        try (TensorReader f = TensorReader.open(file)) {
            metadata = CheckpointMetadata.from(file, f.metadata());
            TrainingCheckpoint.requireSameModel(file, metadata, model);
        }
        List<ParameterTable.Param> params = ParameterTable.of(model).params();
        return new Streamed(sink -> {
            try (TensorReader f = TensorReader.open(file)) {
                MasterWeights.load(f, params, sink);
            }
        }, metadata, file);
    }

    /** Loads the master weights of {@code file}, refusing a checkpoint of another model. */
    public static Loaded load(Path file, ModelSpec model) throws IOException {
        ParameterStore params = ParameterStore.zeros(model);
        try (TensorReader f = TensorReader.open(file)) {
            CheckpointMetadata metadata = CheckpointMetadata.from(file, f.metadata());
            TrainingCheckpoint.requireSameModel(file, metadata, model);
            MasterWeights.load(f, params);
            return new Loaded(params, metadata, file);
        }
    }
}

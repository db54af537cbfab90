package dev.octet.train;

import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.TensorInfo;
import dev.octet.checkpoint.TensorNames;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
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
        if (Files.isRegularFile(path)) {
            return path;
        }
        CheckpointDirectory run = CheckpointDirectory.of(path, CheckpointDirectory.DEFAULT_KEEP);
        return run.latest().map(CheckpointDirectory.Entry::file)
                .orElseThrow(() -> new CheckpointException(path, "is neither a checkpoint file nor a run directory with one in "
                        + CheckpointDirectory.NAME + "/"));
    }

    /** Loads the master weights of {@code file}, refusing a checkpoint of another model. */
    public static Loaded load(Path file, ModelSpec model) throws IOException {
        ParameterStore params = ParameterStore.initialize(model, 0);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            CheckpointMetadata metadata = CheckpointMetadata.from(file, f.metadata());
            TrainingCheckpoint.requireSameModel(file, metadata, model);
            for (ParameterStore.Entry e : params.entries()) {
                String name = TensorNames.master(e.param().name());
                TensorInfo info = f.find(name).orElseThrow(() -> new CheckpointException(file, "has no tensor " + name));
                List<Long> expected = e.param().shape().stream().map(Integer::longValue).toList();
                if (!info.shape().equals(expected)) {
                    throw new CheckpointException(file, name + " has shape " + info.shape() + ", the model needs " + expected);
                }
                System.arraycopy(f.floats(name), 0, e.master(), 0, e.master().length);
            }
            return new Loaded(params, metadata, file);
        }
    }
}

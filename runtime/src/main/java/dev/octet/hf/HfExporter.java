package dev.octet.hf;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.octet.checkpoint.AtomicDirectory;
import dev.octet.checkpoint.AtomicFile;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.DType;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.checkpoint.ModelFingerprint;
import dev.octet.checkpoint.TensorReader;
import dev.octet.checkpoint.SafetensorsWriter;
import dev.octet.checkpoint.Tensor;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.numerics.Bf16;
import dev.octet.train.CheckpointWeights;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.stream.Stream;

/**
 * {@code octet export hf}: an Octet model's weights (an imported model directory, a run's latest checkpoint, or
 * a weights or checkpoint file) become a directory transformers loads: config.json, generation_config.json and
 * model.safetensors with Hugging Face names, in BF16 (rounded to nearest even) or F32 (exact).
 *
 * <p>A directory that already holds a model is replaced only when asked ({@code replace}), and then as a whole
 * set in one step ({@link AtomicDirectory}): every weights file and index goes, so no old shard can be read
 * with the new config; config.json keeps the keys Octet does not write (token ids, the transformers version,
 * a custom field), generation_config.json and every other file (tokenizer, README) are kept as they are.
 */
public final class HfExporter {
    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final String GENERATION_CONFIG = "generation_config.json";

    /** What an export wrote. */
    public record Result(Path dir, HfArchitecture architecture, Path weightsRead) {}

    private HfExporter() {}

    /** The weights a source names: a .safetensors file itself, a model directory's weights, a run's latest checkpoint. */
    public static Path weightsOf(Path source) throws IOException {
        Path imported = source.resolve(HfImporter.WEIGHTS_FILE);
        return Files.isDirectory(source) && Files.isRegularFile(imported) ? imported : CheckpointWeights.resolve(source);
    }

    /** Where a source's model.octet is when none is named: in the directory, beside the file, or in a checkpoint's run. */
    public static Optional<Path> modelFileOf(Path source) {
        Path dir = Files.isDirectory(source) ? source : source.toAbsolutePath().getParent();
        List<Path> candidates = new ArrayList<>(List.of(dir.resolve(HfImporter.MODEL_FILE)));
        if (dir.getFileName() != null && dir.getFileName().toString().equals(CheckpointDirectory.NAME)) {
            candidates.add(dir.resolveSibling(HfImporter.MODEL_FILE));
        }
        return candidates.stream().filter(Files::isRegularFile).findFirst();
    }

    /** The files of {@code dir} that make it hold a model: configs and weights that an export would replace. */
    public static List<Path> modelFilesIn(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(HfExporter::isReplaced).sorted().toList();
        }
    }

    /** What an export owns in a directory: config.json, and every weights file or index transformers could read. */
    private static boolean isReplaced(Path file) {
        String name = file.getFileName().toString();
        return name.equals(HfConfig.FILE_NAME) || name.endsWith(".safetensors") || name.endsWith(".safetensors.index.json")
                || (name.startsWith("pytorch_model") && (name.endsWith(".bin") || name.endsWith(".bin.index.json")));
    }

    public static Result run(ModelSpec model, Path modelFile, Path weights, Path outDir, DType dtype) throws IOException {
        return run(model, modelFile, weights, outDir, dtype, false);
    }

    /** As above; {@code replace} allows a directory that already holds a model, which is then replaced as a whole. */
    public static Result run(ModelSpec model, Path modelFile, Path weights, Path outDir, DType dtype, boolean replace)
            throws IOException {
        if (dtype != DType.BF16 && dtype != DType.F32) {
            throw new IllegalArgumentException("export writes BF16 or F32, not " + dtype);
        }
        if (!StandardModelSource.isStandard(model)) {
            throw new InteropException(modelFile, "model " + model.name() + " is not the Llama/Qwen2 graph (embedding; "
                    + "repeat { x + attention(rmsnorm(x), rope = true); x + swiglu(rmsnorm(x)) }; lm_head(rmsnorm(x))), "
                    + "so it has no Hugging Face counterpart");
        }
        HfConfig config = HfConfig.of(model.config(), modelFile);
        requireSameModel(weights, model);
        ParameterStore params = ParameterStore.zeros(model);
        MasterWeights.load(weights, params);

        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (ParameterStore.Entry e : params.entries()) {
            long[] shape = e.param().shape().stream().mapToLong(Integer::longValue).toArray();
            String name = HfParameterNames.toHf(e.param().name()).orElseThrow();
            tensors.put(name, dtype == DType.F32 ? Tensor.f32(e.master(), shape) : bf16(e.master(), shape));
        }
        List<Path> existing = modelFilesIn(outDir);
        if (!existing.isEmpty() && !replace) {
            throw new InteropException(outDir, "already holds a model (" + existing.stream().map(p -> p.getFileName().toString())
                    .limit(4).collect(java.util.stream.Collectors.joining(", ")) + (existing.size() > 4 ? ", ..." : "")
                    + "); choose another directory, or --force to replace its weights and config");
        }
        Optional<JsonObject> previousConfig = previousConfig(outDir.resolve(HfConfig.FILE_NAME));
        String configJson = config.toJson(dtype == DType.F32 ? "float32" : "bfloat16", previousConfig);
        AtomicDirectory.Content files = dir -> {
            // transformers refuses a safetensors file without format = pt in its metadata.
            AtomicFile.write(dir.resolve(WEIGHTS_FILE), out -> SafetensorsWriter.write(out, Map.of("format", "pt"), tensors));
            writeText(dir.resolve(HfConfig.FILE_NAME), configJson);
            if (!Files.exists(dir.resolve(GENERATION_CONFIG))) {
                writeText(dir.resolve(GENERATION_CONFIG), "{\n  \"do_sample\": false\n}\n");
            }
        };
        if (existing.isEmpty()) {
            // Nothing to replace: the files are added beside whatever the directory holds, each atomically.
            Files.createDirectories(outDir);
            files.writeInto(outDir);
        } else {
            AtomicDirectory.replace(outDir, entry -> !isReplaced(entry), files);
        }
        return new Result(outDir, config.architecture(), weights);
    }

    /** The config.json an export replaces, whose keys it does not own are kept; none when absent or not a JSON object. */
    private static Optional<JsonObject> previousConfig(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            JsonElement json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            return json.isJsonObject() ? Optional.of(json.getAsJsonObject()) : Optional.empty();
        } catch (JsonParseException e) {
            return Optional.empty();
        }
    }

    /** A checkpoint records the fingerprint of the model it trained; a plain weights file is checked by shapes alone. */
    private static void requireSameModel(Path weights, ModelSpec model) throws IOException {
        String recorded;
        try (TensorReader f = TensorReader.open(weights)) {
            recorded = f.metadata().get("model_fingerprint");
        }
        if (recorded != null && !recorded.equals(ModelFingerprint.of(model))) {
            throw new InteropException(weights, "was trained for another model than " + model.name()
                    + " (its fingerprint differs); name the model it was trained with");
        }
    }

    private static Tensor bf16(float[] values, long[] shape) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Bf16.encode(values[i]);
        }
        return Tensor.ofShorts(DType.BF16, bits, shape);
    }

    private static void writeText(Path file, String text) throws IOException {
        AtomicFile.write(file, out -> out.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }
}

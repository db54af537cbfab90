package dev.octet.hf;

import dev.octet.checkpoint.AtomicFile;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code octet import hf}: a Hugging Face Qwen2 or Llama checkpoint directory becomes an Octet model directory,
 * {@code model.octet} (the standard graph with the checkpoint's hyper-parameters) and {@code weights.safetensors}
 * (FP32 master weights under Octet's parameter names).
 */
public final class HfImporter {
    public static final String MODEL_FILE = "model.octet";
    public static final String WEIGHTS_FILE = "weights.safetensors";

    /** What an import wrote. */
    public record Result(Path modelFile, Path weightsFile, ModelSpec model, HfArchitecture architecture) {}

    private HfImporter() {}

    public static Result run(Path hfDir, Path outDir, String modelName) throws IOException {
        if (!Files.isDirectory(hfDir)) {
            throw new InteropException(hfDir, "is not a directory; expected a Hugging Face model directory");
        }
        HfConfig config = HfConfig.read(hfDir);
        Path modelFile = outDir.resolve(MODEL_FILE);
        String source = StandardModelSource.render(modelName, config.model(), "Imported by octet import hf from "
                + hfDir.toAbsolutePath().normalize().getFileName() + " (" + config.architecture().className()
                + "); its FP32 weights are in " + WEIGHTS_FILE + " beside this file.");
        ModelSpec model = OctetModelFiles.parse(hfDir.resolve(HfConfig.FILE_NAME), source, modelName);

        ParameterStore params = ParameterStore.zeros(model);
        try (HfWeights weights = HfWeights.open(hfDir)) {
            for (ParameterTable.Param p : ParameterTable.of(model).params()) {
                String hfName = HfParameterNames.toHf(p.name()).orElseThrow();
                List<Long> shape = p.shape().stream().map(Integer::longValue).toList();
                float[] values = weights.read(hfName, shape);
                System.arraycopy(values, 0, params.get(p.name()).master(), 0, values.length);
            }
        }
        Files.createDirectories(outDir);
        Path weightsFile = outDir.resolve(WEIGHTS_FILE);
        MasterWeights.write(weightsFile, params, Map.of("octet_model", modelName,
                "imported_from", config.architecture().className()));
        AtomicFile.write(modelFile, out -> out.write(java.nio.ByteBuffer.wrap(source.getBytes(StandardCharsets.UTF_8))));
        return new Result(modelFile, weightsFile, model, config.architecture());
    }
}

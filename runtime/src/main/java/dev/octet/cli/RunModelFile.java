package dev.octet.cli;

import dev.octet.checkpoint.AtomicFile;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.hf.HfImporter;
import dev.octet.hf.StandardModelSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A run's {@code model.octet}: the model it trains, so that {@code octet export hf RUN_DIR} needs nothing else.
 * Written only for the Llama/Qwen2 graph, the one an export can write; other runs name their model with --model.
 */
final class RunModelFile {
    private RunModelFile() {}

    static void writeIfExportable(Path runDir, ModelSpec model) throws IOException {
        if (!StandardModelSource.isStandard(model)) {
            return;
        }
        String text = StandardModelSource.render(model.name(), model.config(),
                "The model this run trains, written by octet train for octet export hf.");
        AtomicFile.write(runDir.resolve(HfImporter.MODEL_FILE),
                out -> out.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }
}

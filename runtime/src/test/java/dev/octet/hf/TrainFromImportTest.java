package dev.octet.hf;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.cli.ExitCodes;
import dev.octet.cli.OctetMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet train --init} starts from imported weights, and {@code octet export hf RUN_DIR} exports the run. */
class TrainFromImportTest {
    private static final Path BROWN = Path.of("..", "examples", "data", "brown.txt.gz").toAbsolutePath().normalize();

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void trainingStartsFromImportedWeightsAndTheRunExports(@TempDir Path dir) throws IOException {
        HfCheckpointFixture qwen = HfCheckpointFixture.qwen2(5);
        Path imported = dir.resolve("model");
        HfImporter.run(qwen.writeSingleFile(dir.resolve("hf")), imported, "tiny_qwen");
        Path training = imported.resolve("train.octet");
        // A learning rate of 1e-12 leaves the weights where they started, up to FP32 rounding of the update.
        Files.writeString(training, """
                import "model.octet"
                recipe bf16 { bf16 = all }
                training finetune {
                  model = tiny_qwen  recipe = bf16
                  optimizer = adamw(lr = 1e-12, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0)
                  schedule = constant(warmup = 0)
                  micro_batch = 1  global_batch = 1  seq_len = 16  steps = 1  seed = 1
                  data = "%s"
                }
                """.formatted(BROWN.toString().replace("\\", "/")));
        Path run = dir.resolve("run");
        Path weights = imported.resolve(HfImporter.WEIGHTS_FILE);
        assertEquals(ExitCodes.OK, OctetMain.run("train", training.toString(), "--init", weights.toString(),
                "--out", run.toString()), console.err());
        assertTrue(console.out().contains("starting from the weights in " + weights), console.out());

        Path exported = dir.resolve("exported");
        assertEquals(ExitCodes.OK, OctetMain.run("export", "hf", run.toString(), "--out", exported.toString(),
                "--dtype", "f32"), console.err());
        try (SafetensorsFile f = SafetensorsFile.open(exported.resolve(HfExporter.WEIGHTS_FILE))) {
            for (String name : f.names()) {
                float[] got = f.floats(name);
                float[] want = qwen.weights().get(name);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(want[i], got[i], 1e-6, name + "[" + i + "]");
                }
            }
        }
        assertTrue(Files.isRegularFile(CheckpointDirectory.of(run, 2).latest().orElseThrow().file()));
    }

    @Test
    void initWeightsOfAnotherShapeAreRefused(@TempDir Path dir) throws IOException {
        Path imported = dir.resolve("model");
        HfImporter.run(HfCheckpointFixture.qwen2(5).writeSingleFile(dir.resolve("hf")), imported, "tiny_qwen");
        Path other = dir.resolve("other");
        HfImporter.run(HfCheckpointFixture.llamaTied(5).writeSingleFile(dir.resolve("hf2")), other, "tiny_llama");
        Path training = imported.resolve("train.octet");
        Files.writeString(training, """
                import "model.octet"
                recipe bf16 { bf16 = all }
                training finetune {
                  model = tiny_qwen  recipe = bf16
                  micro_batch = 1  global_batch = 1  seq_len = 16  steps = 1  seed = 1
                  data = "%s"
                }
                """.formatted(BROWN.toString().replace("\\", "/")));
        Path otherWeights = other.resolve(HfImporter.WEIGHTS_FILE);
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", training.toString(), "--init", otherWeights.toString(),
                "--out", dir.resolve("run").toString()));
        String message = console.err().strip();
        assertTrue(message.contains(otherWeights.toString()) && message.contains("layers.0.attention.q.bias"), message);
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", training.toString(), "--init", otherWeights.toString(),
                "--resume", "--out", dir.resolve("run").toString()));
    }
}

package dev.octet.cli;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.TensorInfo;
import dev.octet.data.tokenizer.TinyTokenizerJson;
import dev.octet.train.MetricsLog;
import dev.octet.train.RunSettings;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resuming after kills and misuse: metrics and checkpoints agree after a kill at any point, a run killed before
 * its first checkpoint can be run again, a resume that changes what the run means is refused unless overridden
 * (and then recorded), and a checkpoint holding NaN is refused at load.
 */
class ResumeSafetyCommandTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @TempDir
    Path dir;

    private static final String MODEL = """
            model mini {
              vocab = 32  dim = 64  ffn = 128  heads = 1  kv_heads = 1  head_dim = 64  layers = 1  max_seq = 32
              tie_embeddings = true
              forward {
                x = embedding(tokens)
                repeat layers {
                  x = x + attention(rmsnorm(x), rope = true)
                  x = x + swiglu(rmsnorm(x))
                }
                logits = lm_head(rmsnorm(x))
                loss = cross_entropy(logits, targets)
              }
            }
            recipe bf16 { bf16 = all }
            training run {
              model = mini  recipe = bf16  mode = pretrain
              optimizer = adamw(lr = %s, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = constant(warmup = 0)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 2  seq_len = 8  steps = 4  seed = %d
              data = "words.tok"
            }
            """;

    private Path octet(String name, String lr, long seed) throws IOException {
        if (!Files.exists(dir.resolve("words.tok"))) {
            Path tokenizer = TinyTokenizerJson.write(dir, true);
            Path text = Files.writeString(dir.resolve("words.txt"), "hello world! how are you?\n\n\nfine.\n\n\n".repeat(10));
            assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", tokenizer.toString(),
                    "--out", dir.resolve("words.tok").toString()), console.err());
        }
        return Files.writeString(dir.resolve(name), MODEL.formatted(lr, seed));
    }

    private int train(Path file, Path run, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("train", file.toString(), "--out", run.toString(), "--log-every", "1",
                "--eval-every", "0", "--health-every", "0", "--device", "cpu"));
        args.addAll(List.of(more));
        if (!args.contains("--checkpoint-every")) {
            args.addAll(List.of("--checkpoint-every", "2"));
        }
        return OctetMain.run(args.toArray(String[]::new));
    }

    private static List<String> stepsAndLosses(Path run) throws IOException {
        return MetricsLog.read(run.resolve(MetricsLog.FILE_NAME)).stream()
                .map(o -> o.get("step").getAsLong() + ":" + o.get("loss").getAsDouble()).toList();
    }

    @Test
    void aKillBetweenTheMetricsLineAndTheCheckpointLeavesEveryStepOnceAfterResume() throws IOException {
        Path file = octet("mini.octet", "1e-3", 3);
        Path run = dir.resolve("run");
        assertEquals(ExitCodes.OK, train(file, run), console.err());
        List<String> uninterrupted = stepsAndLosses(run);
        assertEquals(5, uninterrupted.size(), "4 steps and the closing held-out line");

        // As a kill -9 after step 3's line, during the write of the next one, before the checkpoint of step 4:
        Files.delete(CheckpointDirectory.of(run, 2).fileFor(4));
        Path metrics = run.resolve(MetricsLog.FILE_NAME);
        List<String> lines = Files.readAllLines(metrics);
        Files.writeString(metrics, String.join("\n", lines.subList(0, 4)) + "\n{\"step\": 3, \"lo");
        assertEquals(ExitCodes.OK, OctetMain.run("report", run.toString(), "--out", dir.resolve("report-torn").toString()),
                "report reads a torn file up to its last whole line: " + console.err());

        assertEquals(ExitCodes.OK, train(file, run, "--resume"), console.err());
        assertEquals(uninterrupted, stepsAndLosses(run), "each step once, with the losses of the uninterrupted run");
        assertEquals(ExitCodes.OK, OctetMain.run("report", run.toString(), "--out", dir.resolve("report").toString()), console.err());
    }

    @Test
    void aRealKill9AnywhereInTheLoopResumesToTheUninterruptedMetrics() throws Exception {
        Path file = octet("mini.octet", "1e-3", 3);
        String steps = "1000";
        Path reference = dir.resolve("reference");
        assertEquals(ExitCodes.OK, train(file, reference, "--steps", steps, "--checkpoint-every", "7"), console.err());

        Path run = dir.resolve("run");
        Path log = dir.resolve("octet.log");
        String javaBinary = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process octet = new ProcessBuilder(javaBinary, "-cp", System.getProperty("java.class.path"), OctetMain.class.getName(),
                "train", file.toString(), "--out", run.toString(), "--log-every", "1", "--eval-every", "0", "--health-every", "0",
                "--checkpoint-every", "7", "--device", "cpu", "--steps", steps)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Path metrics = run.resolve(MetricsLog.FILE_NAME);
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!(Files.exists(metrics) && Files.readAllLines(metrics).size() >= 20)) {
                assertTrue(octet.isAlive(), Files.readString(log));
                assertTrue(System.nanoTime() < deadline, "no 20 steps within 2 minutes: " + Files.readString(log));
                Thread.sleep(5);
            }
            octet.destroyForcibly(); // SIGKILL: no shutdown hook, no last checkpoint
            assertTrue(octet.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            octet.destroyForcibly();
        }
        assertEquals(137, octet.exitValue(), "killed, not finished: " + Files.readString(log));

        assertEquals(ExitCodes.OK, train(file, run, "--steps", steps, "--checkpoint-every", "7", "--resume"), console.err());
        assertEquals(stepsAndLosses(reference), stepsAndLosses(run));
    }

    @Test
    void aRunKilledBeforeItsFirstCheckpointIsRunAgainByResume() throws IOException {
        Path file = octet("mini.octet", "1e-3", 3);
        Path reference = dir.resolve("reference");
        assertEquals(ExitCodes.OK, train(file, reference), console.err());

        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve(MetricsLog.FILE_NAME), "{\"step\":0,\"loss\":3.4}\n{\"step\":1,\"lo");
        console.resetErr();
        assertEquals(ExitCodes.USAGE, train(file, run));
        assertEquals(run + ": error: already holds a run (stopped before its first checkpoint); --resume runs it again from step 0,"
                + " or choose another --out", console.err().strip());

        assertEquals(ExitCodes.OK, train(file, run, "--resume"), console.err());
        assertTrue(console.out().contains("has no checkpoint yet (it stopped before its first); running it again from step 0"));
        assertEquals(stepsAndLosses(reference), stepsAndLosses(run));
    }

    @Test
    void aResumeThatChangesTheSeedLearningRateOrRecipeIsRefusedUnlessOverridden() throws IOException {
        Path run = dir.resolve("run");
        assertEquals(ExitCodes.OK, train(octet("mini.octet", "1e-3", 3), run, "--steps", "2"), console.err());
        byte[] metrics = Files.readAllBytes(run.resolve(MetricsLog.FILE_NAME));
        Path changed = octet("changed.octet", "3e-3", 4);

        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, train(changed, run, "--resume", "--steps", "3"));
        String message = console.err().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.contains("step-00000002.safetensors: resuming would change what the run means (seed 3 -> 4; optimizer "
                + "adamw(lr = 0.001, "), message);
        assertTrue(message.endsWith("pass --override seed,optimizer to change them on purpose"), message);
        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, train(octet("mini.octet", "1e-3", 3), run, "--resume", "--steps", "3", "--recipe",
                Path.of("..", "examples", "recipes", "rowwise.octet").toString()));
        assertTrue(console.err().contains("(recipe bf16 -> rowwise; recipe_quantization bf16 (no fp8) -> W "), console.err());
        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, train(changed, run, "--resume", "--steps", "3", "--override", "seed"));
        assertTrue(console.err().contains("--override optimizer"), console.err());
        assertArrayEquals(metrics, Files.readAllBytes(run.resolve(MetricsLog.FILE_NAME)), "a refused resume changes nothing");
        assertFalse(Files.exists(run.resolve(RunSettings.OVERRIDES_FILE)));

        assertEquals(ExitCodes.OK, train(changed, run, "--resume", "--steps", "3", "--override", "seed,optimizer"), console.err());
        List<JsonObject> recorded = MetricsLog.read(run.resolve(RunSettings.OVERRIDES_FILE));
        assertEquals(List.of("seed", "optimizer"), recorded.stream().map(o -> o.get("setting").getAsString()).toList());
        assertEquals(List.of("3", "4"), List.of(recorded.get(0).get("was").getAsString(), recorded.get(0).get("now").getAsString()));
        assertEquals(2, recorded.get(1).get("step").getAsLong());
        assertTrue(console.out().contains("--override seed: seed 3 -> 4 from step 2"), console.out());
    }

    @Test
    void aResumeOnOtherDataOfTheSameShapeIsRefusedUnlessOverridden() throws IOException {
        Path file = octet("mini.octet", "1e-3", 3);
        Path run = dir.resolve("run");
        assertEquals(ExitCodes.OK, train(file, run, "--steps", "2"), console.err());
        // The same number of tokens in another order: a sampler position alone cannot tell the files apart.
        Path other = Files.writeString(dir.resolve("other.txt"), "world hello! are how you?\n\n\nfine.\n\n\n".repeat(10));
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", other.toString(), "--tokenizer", dir.resolve("tokenizer.json").toString(),
                "--out", dir.resolve("words.tok").toString()), console.err());

        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, train(file, run, "--resume", "--steps", "3"));
        String message = console.err().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.matches(".*\\(data tokens crc32c [0-9a-f]{8} -> tokens crc32c [0-9a-f]{8}\\);.*--override data to change.*"),
                message);
        assertEquals(ExitCodes.OK, train(file, run, "--resume", "--steps", "3", "--override", "data"), console.err());
        assertEquals("data", MetricsLog.read(run.resolve(RunSettings.OVERRIDES_FILE)).getFirst().get("setting").getAsString());
    }

    @Test
    void aCheckpointHoldingNanIsRefusedAtLoadAndAsInitialWeights() throws IOException {
        Path file = octet("mini.octet", "1e-3", 3);
        Path run = dir.resolve("run");
        assertEquals(ExitCodes.OK, train(file, run, "--steps", "2"), console.err());
        Path checkpoint = CheckpointDirectory.of(run, 2).fileFor(2);
        String tensor;
        long at;
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint)) {
            tensor = f.names().stream().filter(n -> !n.startsWith("optimizer.")).findFirst().orElseThrow();
            TensorInfo info = f.info(tensor);
            at = info.begin() + 4 * 5;
        }
        try (RandomAccessFile raf = new RandomAccessFile(checkpoint.toFile(), "rw")) {
            byte[] length = new byte[8];
            raf.readFully(length);
            raf.seek(8 + ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getLong() + at);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN).array());
        }
        byte[] metrics = Files.readAllBytes(run.resolve(MetricsLog.FILE_NAME));

        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, train(file, run, "--resume", "--steps", "3"));
        assertEquals("error: " + checkpoint + ": tensor " + tensor + " holds NaN at element 5; the file is damaged or its run diverged",
                console.err().strip());
        assertArrayEquals(metrics, Files.readAllBytes(run.resolve(MetricsLog.FILE_NAME)));

        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, train(file, dir.resolve("from-nan"), "--init", checkpoint.toString()));
        String message = console.err().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.contains(checkpoint + ": tensor " + tensor + " holds NaN at element 5"), message);
    }
}

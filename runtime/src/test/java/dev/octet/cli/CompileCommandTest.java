package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet compile}: what it writes and prints, and its errors. */
class CompileCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @TempDir
    Path tmp;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setProperty("octet.home", "..");
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
        System.clearProperty("octet.home");
    }

    private static String example(String name) {
        return Path.of("..", "examples", name).toString();
    }

    @Test
    void writesKernelsPlanAndJavaAndSummarizesTheStep() throws IOException {
        int exit = OctetMain.run("compile", example("tiny.octet"), "--out", tmp.toString(), "--dump-after", "fuse");
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        try (Stream<Path> kernels = Files.list(tmp.resolve("kernels"))) {
            assertTrue(kernels.allMatch(k -> k.toString().endsWith(".cu")));
        }
        assertTrue(Files.readString(tmp.resolve("plan.json")).contains("\"launches\""));
        assertTrue(Files.exists(tmp.resolve("java/dev/octet/generated/TinyInfir2Step.java")));
        assertTrue(stdout.contains("// ---- IR after fuse ----") && stdout.contains("kernel 1 rmsnorm+quantize"), stdout);
        assertTrue(stdout.contains("fused:") && stdout.contains("gemm+residual"), stdout);
        assertTrue(stdout.contains("peak forward") && stdout.contains("FLOPs per step"), stdout);
        assertTrue(stdout.contains("recompute [norm, activation]: peak forward"), stdout);
        assertTrue(stdout.lines().anyMatch(l -> l.matches("  device memory: arena [0-9.]+ MiB \\(largest workspace [0-9.]+ MiB,"
                + " kernel[0-9]+\\.logits\\) \\+ CUDA context and modules about 768\\.0 MiB \\(estimate\\) = [0-9.]+ MiB")), stdout);
    }

    @Test
    void theLossWorkspaceSetsTheChunksOfTheLmHeadsLoss() {
        // 1 MiB holds 128 rows of the tiny model's 4096 logits: its 512 tokens in four chunks.
        int exit = OctetMain.run("compile", example("tiny.octet"), "--out", tmp.toString(), "--loss-workspace", "1");
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        assertTrue(stdout.contains("LM head + loss: 512 tokens in 4 chunks of 128 (logits workspace 1.0 MiB; the whole"
                + " micro-batch's logits would take 4.0 MiB)"), stdout);
        out.reset();
        assertEquals(ExitCodes.USAGE, OctetMain.run("compile", example("tiny.octet"), "--out", tmp.resolve("b").toString(),
                "--loss-workspace", "-1"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--loss-workspace must be 0 or more MiB"));
    }

    @Test
    void gpusAddsWhatEachGpuHoldsWithShardedState() {
        int exit = OctetMain.run("compile", example("tiny.octet"), "--out", tmp.toString(), "--gpus", "2");
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        assertTrue(stdout.contains("  data parallel over 2 GPUs, per GPU: ") && stdout.contains("(ZeRO-1;")
                && stdout.contains("(ZeRO-2;"), stdout);
        assertEquals(ExitCodes.USAGE, OctetMain.run("compile", example("tiny.octet"), "--out", tmp.resolve("b").toString(),
                "--gpus", "0"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--gpus must be 1 or more, not 0"));
    }

    @Test
    void anUnknownPassIsAUsageError() {
        int exit = OctetMain.run("compile", example("tiny.octet"), "--out", tmp.toString(), "--dump-after", "fusion");
        assertEquals(ExitCodes.USAGE, exit);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown pass 'fusion'"));
    }

    @Test
    void aModelNoKernelTemplateServesIsOneLineNotAStackTrace() throws java.io.IOException {
        // Heads of 32: the attention tiles are written for 64 and 128.
        java.nio.file.Path model = tmp.resolve("narrow-heads.octet");
        java.nio.file.Files.writeString(model, dev.octet.testing.ModelSources.llamaLike(64, 128, 256, 4, 4, 32, 64));
        int exit = OctetMain.run("compile", model.toString(), "--recipe", "bf16", "--out", tmp.resolve("out").toString());
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(ExitCodes.INVALID_INPUT, exit);
        assertTrue(stderr.contains("the CUDA backend cannot compile model llama_like") && stderr.contains("headDim"), stderr);
        assertFalse(stderr.contains("\tat "), stderr);
    }
}

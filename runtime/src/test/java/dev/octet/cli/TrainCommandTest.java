package dev.octet.cli;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.train.MetricsLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import java.util.Map;
import java.util.Optional;

/** {@code octet train}: a short real run of the tiny example, and the errors a user can make. */
class TrainCommandTest {
    private static final String TINY = Path.of("..", "examples", "tiny.octet").toString();
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void trainsTheTinyExampleAndWritesMetrics(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        int code = OctetMain.run("train", TINY, "--steps", "3", "--log-every", "1", "--out", run.toString());
        assertEquals(ExitCodes.OK, code, console.err());
        assertEquals(3 + 1, MetricsLog.read(run.resolve(MetricsLog.FILE_NAME)).size());
        assertTrue(console.out().contains("recipe infir2"), console.out());
    }

    @Test
    void aSecondRunIntoTheSameDirectoryIsAUsageError(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(MetricsLog.FILE_NAME), "{}\n");
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--steps", "1", "--out", dir.toString()));
        assertTrue(console.err().contains("already holds a run"), console.err());
    }

    @Test
    void resumeWithoutACheckpointIsAOneLineErrorWithExitCodeOne(@TempDir Path dir) {
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", TINY, "--resume", "--out", dir.toString()));
        assertEquals(dir.resolve("checkpoints") + ": error: no checkpoint to resume from", console.err().strip());
        console.resetErr();
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--resume"));
        assertTrue(console.err().contains("--resume needs --out"), console.err());
    }

    @Test
    void resumeWithAnotherModelIsAOneLineErrorWithExitCodeOne(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        assertEquals(ExitCodes.OK, OctetMain.run("train", TINY, "--steps", "1", "--out", run.toString()), console.err());
        Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
        String changed = Files.readString(Path.of(TINY))
                .replace("\"recipes/", "\"" + examples.resolve("recipes") + "/")
                .replace("\"data/", "\"" + examples.resolve("data") + "/")
                .replaceFirst("ffn\\s*=\\s*384", "ffn = 256");
        Path other = Files.writeString(dir.resolve("tiny-changed.octet"), changed);
        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", other.toString(), "--resume", "--out", run.toString()));
        String message = console.err().strip();
        assertTrue(message.contains("step-00000001.safetensors: was written for model tiny"), message);
        assertEquals(1, message.lines().count(), message);
    }

    @Test
    void sigtermStopsAfterTheCurrentStepWithACheckpointThatResumesAppendingMetrics(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Path log = dir.resolve("octet.log");
        String javaBinary = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process octet = new ProcessBuilder(javaBinary, "-cp", System.getProperty("java.class.path"), OctetMain.class.getName(),
                "train", TINY, "--steps", "200", "--log-every", "1", "--out", run.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Path metrics = run.resolve(MetricsLog.FILE_NAME);
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!(Files.exists(metrics) && MetricsLog.read(metrics).size() >= 2)) {
                assertTrue(octet.isAlive(), Files.readString(log));
                assertTrue(System.nanoTime() < deadline, "no training step within 3 minutes: " + Files.readString(log));
                Thread.sleep(200);
            }
            octet.destroy(); // SIGTERM
            assertTrue(octet.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), Files.readString(log));
        } finally {
            octet.destroyForcibly();
        }
        assertEquals(128 + 15, octet.exitValue(), Files.readString(log));
        var checkpoint = dev.octet.checkpoint.CheckpointDirectory.of(run, 2).latest().orElseThrow();
        long stoppedAt = checkpoint.step();
        assertTrue(stoppedAt >= 2 && stoppedAt < 200, "stopped at " + stoppedAt);
        assertTrue(Files.readString(log).contains("stopped after step " + stoppedAt + " of 200"), Files.readString(log));
        assertEquals(stoppedAt, MetricsLog.read(run.resolve(MetricsLog.FILE_NAME)).size(), "every step logged, the last one too");

        String total = Long.toString(stoppedAt + 1);
        assertEquals(ExitCodes.OK, OctetMain.run("train", TINY, "--resume", "--steps", total, "--log-every", "1",
                "--out", run.toString()), console.err());
        assertTrue(console.out().contains("resuming tiny_pretrain at step " + stoppedAt + " of " + total), console.out());
        var lines = MetricsLog.read(run.resolve(MetricsLog.FILE_NAME));
        assertEquals(stoppedAt + 2, lines.size(), "the resumed step and the held-out loss, appended");
        assertEquals(stoppedAt, lines.get((int) stoppedAt).get("step").getAsLong());
        assertTrue(Files.exists(run.resolve("checkpoints").resolve(String.format("step-%08d.safetensors", stoppedAt + 1))));

        // Nothing left to do: a one-line error, not a silent no-op.
        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", TINY, "--resume", "--steps", total, "--out", run.toString()));
        assertTrue(console.err().contains("already completed " + total + " of " + total + " steps"), console.err());
        assertEquals(1, console.err().strip().lines().count(), console.err());
    }

    @Test
    void aFileWithoutATrainingBlockIsInvalidInput() {
        String gpt2 = Path.of("..", "examples", "gpt2-124m.octet").toString();
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", gpt2));
        assertTrue(console.err().contains("no training block"), console.err());
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--steps", "0"));
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", "no-such-file.octet"));
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--recipe", "no_such_recipe"));
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--loss-workspace", "-1"));
        assertTrue(console.err().contains("--loss-workspace must be 0 or more MiB"), console.err());
        assertTrue(!console.err().contains("\tat "), console.err());
    }
}

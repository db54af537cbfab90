package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.train.MetricsLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet train}: a short real run of the tiny example, and the errors a user can make. */
class TrainCommandTest {
    private static final String TINY = Path.of("..", "examples", "tiny.octet").toString();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    @Test
    void trainsTheTinyExampleAndWritesMetrics(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        int code = OctetMain.run("train", TINY, "--steps", "3", "--log-every", "1", "--out", run.toString());
        assertEquals(ExitCodes.OK, code, err.toString());
        assertEquals(3 + 1, MetricsLog.read(run.resolve(MetricsLog.FILE_NAME)).size());
        assertTrue(out.toString().contains("recipe infir2"), out.toString());
    }

    @Test
    void aSecondRunIntoTheSameDirectoryIsAUsageError(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(MetricsLog.FILE_NAME), "{}\n");
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--steps", "1", "--out", dir.toString()));
        assertTrue(err.toString().contains("already holds a run"), err.toString());
    }

    @Test
    void aFileWithoutATrainingBlockIsInvalidInput() {
        String gpt2 = Path.of("..", "examples", "gpt2-124m.octet").toString();
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", gpt2));
        assertTrue(err.toString().contains("no training block"), err.toString());
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--steps", "0"));
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", "no-such-file.octet"));
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--recipe", "no_such_recipe"));
        assertTrue(!err.toString().contains("\tat "), err.toString());
    }
}

package dev.octet.cli;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.data.arithmetic.ArithmeticTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Where commands write: never over the user's files, and a file where a directory is needed is one line, not an internal error. */
class OutputSafetyCommandTest {
    private static final String TINY = Path.of("..", "examples", "tiny.octet").toString();
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @TempDir
    Path dir;

    @Test
    void anOutThatIsAFileIsAOneLineErrorNotAnInternalOne() throws IOException {
        Path notes = Files.writeString(dir.resolve("notes.txt"), "mine");
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", TINY, "--steps", "1", "--device", "cpu", "--out", notes.toString()));
        assertEquals("octet: error: " + notes + ": exists and is not a directory", console.err().strip());
        console.resetErr();
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("compile", TINY, "--out", notes.toString()));
        String message = console.err().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("octet: error: " + notes), message);
        assertEquals("mine", Files.readString(notes));
    }

    @Test
    void aNewRunIsRefusedWhereCheckpointsOfAnotherAreKept() throws IOException {
        Path run = dir.resolve("run");
        Path checkpoint = Files.createDirectories(run.resolve("checkpoints")).resolve("step-00000200.safetensors");
        Files.writeString(checkpoint, "kept");
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", TINY, "--steps", "1", "--device", "cpu", "--out", run.toString()));
        assertEquals(run + ": error: already holds a run; --resume continues it, or choose another --out", console.err().strip());
        assertEquals("kept", Files.readString(checkpoint));
    }

    @Test
    void theArithmeticTaskNeverReplacesOtherFilesUnlessForced() throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path train = Files.writeString(data.resolve(ArithmeticTask.TRAIN_FILE), "{\"mine\": 1}\n");
        String[] args = {"data", "arithmetic", "--out", data.toString(), "--train", "50", "--test", "5"};
        assertEquals(ExitCodes.USAGE, OctetMain.run(args));
        assertEquals("octet: error: " + train + ": exists with other content; choose another --out, or --force to replace it",
                console.err().strip());
        assertEquals("{\"mine\": 1}\n", Files.readString(train));

        Path fresh = dir.resolve("fresh");
        String[] again = {"data", "arithmetic", "--out", fresh.toString(), "--train", "50", "--test", "5"};
        assertEquals(ExitCodes.OK, OctetMain.run(again));
        assertEquals(ExitCodes.OK, OctetMain.run(again), "the same task is written again without asking");
        assertEquals(ExitCodes.OK, OctetMain.run("data", "arithmetic", "--out", data.toString(), "--train", "50", "--test", "5", "--force"));
        assertEquals(Files.readString(fresh.resolve(ArithmeticTask.TRAIN_FILE)), Files.readString(train));
    }
}

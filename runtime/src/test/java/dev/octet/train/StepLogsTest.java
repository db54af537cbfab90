package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-step logs cut back to a checkpoint: later lines and a torn last line go, earlier lines stay byte for byte. */
class StepLogsTest {
    @TempDir
    Path dir;

    @Test
    void keepsOnlyTheStepsTheCheckpointHoldsAndDropsATornLine() throws IOException {
        Path file = Files.writeString(dir.resolve("metrics.jsonl"),
                "{\"step\":0,\"loss\":9.5}\n{\"step\":1,\"loss\":9.1}\n{\"step\":2,\"loss\":8.7}\n{\"step\":3,\"lo");
        assertEquals(2, StepLogs.truncate(file, 2));
        assertEquals("{\"step\":0,\"loss\":9.5}\n{\"step\":1,\"loss\":9.1}\n", Files.readString(file));
        assertEquals(0, StepLogs.truncate(file, 2), "already in agreement: nothing changes");
        assertEquals(2, StepLogs.truncate(file, 0));
        assertEquals("", Files.readString(file));
        assertEquals(0, StepLogs.truncate(dir.resolve("absent.jsonl"), 5));
    }

    @Test
    void aDamagedLineBeforeTheEndIsNamedNotDropped() throws IOException {
        Path file = Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\":0}\nnot json\n{\"step\":1}\n");
        IOException e = assertThrows(IOException.class, () -> StepLogs.truncate(file, 1));
        assertEquals(file + ": a line that is not a step record: not json", e.getMessage());
        assertTrue(Files.readString(file).contains("not json"), "left as it was");
    }
}

package dev.octet.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Atomic replacement, retention of the newest K, and finding the latest checkpoint by name. */
class CheckpointDirectoryTest {

    @Test
    void keepsTheNewestKAndFindsTheLatestByStepNotByName(@TempDir Path run) throws IOException {
        CheckpointDirectory dir = CheckpointDirectory.of(run, 2);
        assertTrue(dir.latest().isEmpty());
        for (long step : new long[] {5, 10, 99_999_999, 100_000_000}) {
            dir.save(step, checkpointOf(step));
        }
        assertEquals(List.of(99_999_999L, 100_000_000L), dir.entries().stream().map(CheckpointDirectory.Entry::step).toList());
        assertEquals(100_000_000L, dir.latest().orElseThrow().step());
        assertEquals(run.resolve("checkpoints").resolve("step-100000000.safetensors"), dir.latest().orElseThrow().file());
        assertFalse(Files.exists(dir.fileFor(5)));
        assertFalse(Files.exists(dir.fileFor(10)));
        assertEquals(100_000_000L, stepIn(dir.latest().orElseThrow().file()));
    }

    @Test
    void aWriteThatFailsMidwayLeavesThePreviousCheckpointWholeAndNoTemporaryFile(@TempDir Path run) throws IOException {
        CheckpointDirectory dir = CheckpointDirectory.of(run, 2);
        Path previous = dir.save(1, checkpointOf(1));
        byte[] before = Files.readAllBytes(previous);
        IOException failure = assertThrows(IOException.class, () -> dir.save(2, channel -> {
            channel.write(ByteBuffer.wrap(new byte[1000]));
            throw new IOException("disk full");
        }));
        assertEquals("disk full", failure.getMessage());
        assertEquals(1, dir.latest().orElseThrow().step());
        assertArrayEquals(before, Files.readAllBytes(previous));
        assertEquals(1, stepIn(previous));
        try (Stream<Path> files = Files.list(dir.dir())) {
            assertEquals(List.of(previous.getFileName().toString()), files.map(f -> f.getFileName().toString()).toList());
        }
        // Overwriting the same step atomically fails the same way and keeps the old content.
        assertThrows(IllegalStateException.class, () -> dir.save(1, channel -> {
            channel.write(ByteBuffer.wrap(new byte[10]));
            throw new IllegalStateException("interrupted");
        }));
        assertArrayEquals(before, Files.readAllBytes(previous));
    }

    @Test
    void aProcessKilledBeforeTheRenameLeavesATemporaryFileThatIsNeverTakenForACheckpoint(@TempDir Path run) throws IOException {
        CheckpointDirectory dir = CheckpointDirectory.of(run, 2);
        Path previous = dir.save(3, checkpointOf(3));
        // What a kill between write and rename leaves: a complete-looking, or a half-written, temporary file.
        Path complete = dir.dir().resolve(".step-00000004.safetensors.1f2e3d" + AtomicFile.TEMP_SUFFIX);
        Path partial = dir.dir().resolve(".step-00000005.safetensors.4c5b6a" + AtomicFile.TEMP_SUFFIX);
        Files.copy(previous, complete);
        Files.write(partial, java.util.Arrays.copyOf(Files.readAllBytes(previous), 40));
        Files.writeString(dir.dir().resolve("notes.txt"), "not a checkpoint");

        assertEquals(List.of(3L), dir.entries().stream().map(CheckpointDirectory.Entry::step).toList());
        assertEquals(3, stepIn(dir.latest().orElseThrow().file()));
        // The next save clears what the killed write left.
        dir.save(6, checkpointOf(6));
        assertFalse(Files.exists(complete));
        assertFalse(Files.exists(partial));
        assertTrue(Files.exists(dir.dir().resolve("notes.txt")));
        assertEquals(List.of(3L, 6L), dir.entries().stream().map(CheckpointDirectory.Entry::step).toList());
    }

    @Test
    void keepingFewerThanOneIsRefused(@TempDir Path run) {
        assertThrows(IllegalArgumentException.class, () -> CheckpointDirectory.of(run, 0));
    }

    @Test
    void aCheckpointHoldingNanIsNotSavedAndTheNewestGoodOneStays(@TempDir Path run) throws IOException {
        CheckpointDirectory dir = CheckpointDirectory.of(run, 1);
        AtomicFile.Check finite = written -> {
            try (SafetensorsFile f = SafetensorsFile.open(written)) {
                FiniteValues.requireAll(f);
            }
        };
        Path good = dir.save(4, checkpointOf(4), finite);
        byte[] before = Files.readAllBytes(good);
        SequencedMap<String, Tensor> diverged = new LinkedHashMap<>();
        diverged.put("w", Tensor.f32(new float[] {1, Float.NaN}, 2));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> dir.save(6, channel -> SafetensorsWriter.write(channel, Map.of(), diverged), finite));
        assertEquals(dir.fileFor(6) + ": not saved: tensor w holds NaN at element 1; the file is damaged or its run diverged;"
                + " the newest good checkpoint (step-00000004.safetensors) is kept", e.getMessage());
        assertEquals(List.of(4L), dir.entries().stream().map(CheckpointDirectory.Entry::step).toList(), "keep = 1, and 4 stays");
        assertArrayEquals(before, Files.readAllBytes(good));
        try (Stream<Path> files = Files.list(dir.dir())) {
            assertEquals(1, files.count(), "no temporary file is left");
        }
    }

    private static AtomicFile.Content checkpointOf(long step) {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.f32(new float[] {step, -step}, 2));
        return channel -> SafetensorsWriter.write(channel, Map.of("step", Long.toString(step)), tensors);
    }

    private static long stepIn(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals((float) -Long.parseLong(f.metadata().get("step")), f.floats("w")[1]);
            return Long.parseLong(f.metadata().get("step"));
        }
    }
}

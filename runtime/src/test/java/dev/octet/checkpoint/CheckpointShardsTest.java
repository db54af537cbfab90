package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints written in shards by the ranks of a run, read as one, and what is refused. */
class CheckpointShardsTest {
    @Test
    void theRanksShardsAreReadAsOneCheckpoint(@TempDir Path run) throws Exception {
        CheckpointDirectory dir = CheckpointDirectory.of(run, 2);
        Path saved = saveOnRanks(dir, 3, 7, rank -> shard(7, rank));
        assertEquals(dir.shardsFor(7), saved);
        assertEquals(List.of(new CheckpointDirectory.Entry(7, saved)), dir.entries());
        try (TensorReader f = TensorReader.open(saved)) {
            assertEquals(List.of("w0", "w1", "w2"), f.names());
            for (int r = 0; r < 3; r++) {
                assertArrayEquals(new float[] {r, 7}, f.floats("w" + r));
            }
            assertEquals("7", f.metadata().get("step"));
        }
        try (Stream<Path> files = Files.list(dir.dir())) {
            assertEquals(1, files.count(), "no staging directory or temporary file is left");
        }
    }

    @Test
    void olderCheckpointsRotateOutAndAStagingDirectoryAKillLeftIsRemoved(@TempDir Path run) throws Exception {
        CheckpointDirectory dir = CheckpointDirectory.of(run, 2);
        saveOnRanks(dir, 2, 1, rank -> shard(1, rank));
        Path stale = Files.createDirectories(dir.dir().resolve(".step-00000002.shards" + AtomicFile.TEMP_SUFFIX));
        Files.writeString(stale.resolve("shard-0-of-2.safetensors"), "torn");
        saveOnRanks(dir, 2, 2, rank -> shard(2, rank));
        saveOnRanks(dir, 2, 3, rank -> shard(3, rank));
        assertEquals(List.of(2L, 3L), dir.entries().stream().map(CheckpointDirectory.Entry::step).toList());
        assertTrue(Files.notExists(stale));
        try (TensorReader f = TensorReader.open(dir.shardsFor(2))) {
            assertArrayEquals(new float[] {1, 2}, f.floats("w1"), "the shard written again, not the torn one");
        }
    }

    @Test
    void aFailedCheckKeepsTheNewestGoodCheckpoint(@TempDir Path run) throws Exception {
        CheckpointDirectory dir = CheckpointDirectory.of(run, 1);
        saveOnRanks(dir, 2, 4, rank -> shard(4, rank));
        AtomicFile.Check finite = written -> {
            try (TensorReader f = TensorReader.open(written)) {
                FiniteValues.requireAll(f);
            }
        };
        Exception e = assertThrows(Exception.class, () -> saveOnRanks(dir, 2, 6, rank -> {
            SequencedMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("w" + rank, Tensor.f32(new float[] {rank == 1 ? Float.NaN : 0, 6}, 2));
            return channel -> SafetensorsWriter.write(channel, Map.of("step", "6"), t);
        }, finite));
        CheckpointException cause = assertInstanceOf(CheckpointException.class, e.getCause());
        assertEquals(dir.shardsFor(6) + ": not saved: tensor w1 holds NaN at element 0; the file is damaged or its run diverged;"
                + " the newest good checkpoint (step-00000004) is kept", cause.getMessage());
        assertEquals(List.of(4L), dir.entries().stream().map(CheckpointDirectory.Entry::step).toList());
        try (Stream<Path> files = Files.list(dir.dir())) {
            assertEquals(1, files.count(), "the failed shards are gone");
        }
    }

    @Test
    void aMissingShardATensorInTwoShardsAndShardsOfAnotherStepAreRefused(@TempDir Path dir) throws IOException {
        Path missing = Files.createDirectories(dir.resolve("missing"));
        write(missing.resolve("shard-0-of-3.safetensors"), shard(5, 0));
        write(missing.resolve("shard-2-of-3.safetensors"), shard(5, 2));
        assertEquals(missing + ": lacks shard-1-of-3.safetensors: a checkpoint of 3 ranks needs every rank's shard",
                assertThrows(CheckpointException.class, () -> TensorReader.open(missing)).getMessage());

        Path twice = Files.createDirectories(dir.resolve("twice"));
        write(twice.resolve("shard-0-of-2.safetensors"), shard(5, 0));
        write(twice.resolve("shard-1-of-2.safetensors"), shard(5, 0));
        assertEquals(twice + ": tensor w0 is in both shard-0-of-2.safetensors and shard-1-of-2.safetensors",
                assertThrows(CheckpointException.class, () -> TensorReader.open(twice)).getMessage());

        Path mixed = Files.createDirectories(dir.resolve("mixed"));
        write(mixed.resolve("shard-0-of-2.safetensors"), shard(5, 0));
        write(mixed.resolve("shard-1-of-2.safetensors"), shard(6, 1));
        assertEquals(mixed + ": shard-1-of-2.safetensors was written by another run or step than shard-0-of-2.safetensors"
                        + " (their metadata differ)",
                assertThrows(CheckpointException.class, () -> TensorReader.open(mixed)).getMessage());

        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertTrue(assertThrows(CheckpointException.class, () -> TensorReader.open(empty)).getMessage()
                .endsWith("is a directory without checkpoint shards (shard-R-of-N.safetensors)"));
    }

    /** Rank {@code rank}'s shard of step {@code step}: its one tensor, named after it. */
    private static AtomicFile.Content shard(long step, int rank) {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w" + rank, Tensor.f32(new float[] {rank, step}, 2));
        return channel -> SafetensorsWriter.write(channel, Map.of("step", Long.toString(step)), tensors);
    }

    private static void write(Path file, AtomicFile.Content content) throws IOException {
        AtomicFile.write(file, content);
    }

    private interface Shard {
        AtomicFile.Content of(int rank);
    }

    private static Path saveOnRanks(CheckpointDirectory dir, int world, long step, Shard shard) throws Exception {
        return saveOnRanks(dir, world, step, shard, written -> TensorReader.open(written).close());
    }

    /** Every rank of {@code world} saving its shard, as threads meeting at a barrier; rank 0's result. */
    private static Path saveOnRanks(CheckpointDirectory dir, int world, long step, Shard shard, AtomicFile.Check check)
            throws Exception {
        CyclicBarrier barrier = new CyclicBarrier(world);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<Path>> saved = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                saved.add(pool.submit(() -> dir.saveShards(step, rank, world, shard.of(rank), () -> {
                    try {
                        barrier.await(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, check)));
            }
            Path zero = saved.getFirst().get(30, TimeUnit.SECONDS);
            for (Future<Path> other : saved.subList(1, world)) {
                assertEquals(zero, other.get(30, TimeUnit.SECONDS));
            }
            return zero;
        } finally {
            pool.shutdownNow();
        }
    }
}

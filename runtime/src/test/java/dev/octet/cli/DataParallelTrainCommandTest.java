package dev.octet.cli;

import dev.octet.testing.ConsoleCapture;
import dev.octet.train.MetricsLog;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code octet train --gpus N --device cpu}: this process is rank 0 and starts the other ranks as processes of
 * their own, as on a GPU host; the tiny example with two micro-batches a step, so two ranks share it.
 */
class DataParallelTrainCommandTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void twoRankProcessesTrainAsOneProcessDoes(@TempDir Path dir) throws IOException {
        Path tiny = tinyWithTwoMicroBatches(dir);
        Path one = dir.resolve("one"), two = dir.resolve("two");
        assertEquals(ExitCodes.OK, OctetMain.run("train", tiny.toString(), "--device", "cpu", "--steps", "3",
                "--log-every", "1", "--out", one.toString()), console.err());
        assertEquals(ExitCodes.OK, OctetMain.run("train", tiny.toString(), "--device", "cpu", "--gpus", "2", "--steps", "3",
                "--log-every", "1", "--out", two.toString()), console.err());
        assertTrue(console.out().contains("rank 0 of 2; each trains on 1 of the 2 micro-batches of a step"), console.out());
        List<JsonObject> want = MetricsLog.read(one.resolve(MetricsLog.FILE_NAME));
        List<JsonObject> got = MetricsLog.read(two.resolve(MetricsLog.FILE_NAME));
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            double w = want.get(i).get("loss").getAsDouble(), g = got.get(i).get("loss").getAsDouble();
            // Two ranks sum the step's two micro-batches in another order than one process.
            assertEquals(w, g, 1e-12 * Math.abs(w), "loss of line " + i);
        }
        // Its checkpoint is every rank's shard, in one directory, which a new run starts from as from a file.
        Path shards = two.resolve("checkpoints").resolve("step-00000003");
        assertTrue(Files.isRegularFile(shards.resolve("shard-1-of-2.safetensors")), "rank 1 wrote its shard");
        assertEquals(ExitCodes.OK, OctetMain.run("train", tiny.toString(), "--device", "cpu", "--steps", "1",
                "--init", shards.toString(), "--out", dir.resolve("from-shards").toString()), console.err());
        assertTrue(console.out().contains("starting from the weights in " + shards), console.out());
    }

    @Test
    void killingOneRankStopsTheRunInOneLineAndKeepsTheLastCheckpoint(@TempDir Path dir) throws Exception {
        Path tiny = tinyWithTwoMicroBatches(dir);
        Path run = dir.resolve("run");
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> OctetMain.run("train", tiny.toString(),
                "--device", "cpu", "--gpus", "2", "--steps", "100000", "--checkpoint-every", "1", "--out", run.toString()));
        Path checkpoints = run.resolve("checkpoints");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!hasCheckpoint(checkpoints) && System.nanoTime() < deadline && !code.isDone()) {
            Thread.sleep(50);
        }
        List<ProcessHandle> ranks = ProcessHandle.current().children().toList();
        if (!hasCheckpoint(checkpoints)) {
            ranks.forEach(ProcessHandle::destroyForcibly);  // ends rank 0 too, through its collectives
            throw new AssertionError("no checkpoint within 2 minutes: " + console.err());
        }
        assertEquals(1, ranks.size(), "rank 1's process");
        ranks.getFirst().destroyForcibly();  // as SIGKILL or a crash would end it
        assertEquals(ExitCodes.RANK_FAILED, code.get(2, TimeUnit.MINUTES), console.err());
        String line = console.err().lines().filter(l -> l.startsWith("octet train:")).findFirst().orElseThrow();
        assertTrue(line.startsWith("octet train: rank 1 stopped: its connection to rank 0 closed; the run stopped, its last checkpoint is "),
                console.err());
        assertTrue(!console.err().contains("\tat "), console.err());
        // The checkpoint it names is whole: it reads back, and a run of one process resumes from it.
        Path last = Path.of(line.substring(line.lastIndexOf(' ') + 1));
        console.resetErr();
        long resumedFrom = Long.parseLong(last.getFileName().toString().replaceAll("\\D", ""));
        assertEquals(ExitCodes.OK, OctetMain.run("train", tiny.toString(), "--device", "cpu", "--resume", "--steps",
                Long.toString(resumedFrom + 1), "--out", run.toString()), console.err());
    }

    @Test
    void aRunStoppedBeforeItsFirstCheckpointIsRunAgainOnEveryRank(@TempDir Path dir) throws IOException {
        Path tiny = tinyWithTwoMicroBatches(dir);
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve(MetricsLog.FILE_NAME), "{\"step\": 0, \"loss\": 9.0}\n");
        assertEquals(ExitCodes.OK, OctetMain.run("train", tiny.toString(), "--device", "cpu", "--gpus", "2", "--resume",
                "--steps", "2", "--log-every", "1", "--out", run.toString()), console.err());
        assertTrue(console.out().contains("has no checkpoint yet (it stopped before its first); running it again from step 0"),
                console.out());
        assertEquals(2 + 1, MetricsLog.read(run.resolve(MetricsLog.FILE_NAME)).size(), "the old line replaced");
    }

    @Test
    void ranksThatCannotShareAStepEvenlyAreRefusedInOneLine(@TempDir Path dir) throws IOException {
        Path tiny = tinyWithTwoMicroBatches(dir);
        List<ProcessHandle> before = ProcessHandle.current().children().toList();
        assertEquals(ExitCodes.USAGE, OctetMain.run("train", tiny.toString(), "--device", "cpu", "--gpus", "3",
                "--out", dir.resolve("run").toString()));
        assertEquals("octet train: 3 GPUs cannot share a step of 2 micro-batches evenly: use a number of GPUs that divides 2, "
                + "or set the training block's batch so that the accumulation is a multiple of 3", console.err().strip());
        assertEquals(before, ProcessHandle.current().children().toList(), "no rank was started");
    }

    private static boolean hasCheckpoint(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().matches("step-\\d+"));
        }
    }

    /** The tiny example with a global batch of two micro-batches, its paths made absolute. */
    private static Path tinyWithTwoMicroBatches(Path dir) throws IOException {
        Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
        String source = Files.readString(examples.resolve("tiny.octet"))
                .replace("\"recipes/", "\"" + examples.resolve("recipes") + "/")
                .replace("\"data/", "\"" + examples.resolve("data") + "/")
                .replaceFirst("global_batch\\s*=\\s*4", "global_batch = 8");
        assertTrue(source.contains("global_batch = 8"));
        return Files.writeString(dir.resolve("tiny-two.octet"), source);
    }
}

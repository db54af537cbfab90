package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.testing.ConsoleCapture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet tune}: the tiny example tuned for real, and the errors a user can make, each one line. */
class TuneCommandTest {
    private static final Path TINY = Path.of("..", "examples", "tiny.octet");
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void tunesTheTinyExampleIntoAFileThatChecksAndTrainsTheSameBytesEachTime(@TempDir Path dir) throws IOException {
        Path first = dir.resolve("a").resolve("tuned.octet");
        Path second = dir.resolve("b").resolve("tuned.octet");
        assertEquals(ExitCodes.OK, OctetMain.run("tune", TINY.toString(), "--steps", "1", "--out", first.toString()), console.err());
        assertTrue(console.out().contains("wrote " + first), console.out());
        assertEquals(ExitCodes.OK, OctetMain.run("tune", TINY.toString(), "--steps", "1", "--out", second.toString()), console.err());
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second), "same data and seed, same recipe");
        Path page = dir.resolve("a").resolve("tuned.html");
        assertArrayEquals(Files.readAllBytes(page), Files.readAllBytes(dir.resolve("b").resolve("tuned.html")));

        String recipe = Files.readString(first);
        assertTrue(recipe.contains("recipe infir2_tuned {"), recipe);
        assertTrue(recipe.contains("training tiny_pretrain_tuned {"), recipe);
        String html = Files.readString(page);
        assertTrue(html.contains("<td class=\"cell chosen\""), "the choice is marked");
        assertTrue(html.contains("<h2>wgrad activations</h2>"), "a heat map per operand role");

        console.reset();
        assertEquals(ExitCodes.OK, OctetMain.run("check", first.toString()), console.err());
        assertTrue(console.out().contains("recipe infir2_tuned"), console.out());
        assertEquals(ExitCodes.OK, OctetMain.run("train", first.toString(), "--device", "cpu", "--steps", "1",
                "--out", dir.resolve("run").toString()), console.err());
        assertTrue(console.out().contains("with recipe infir2_tuned"), console.out());
    }

    @Test
    void calibratesOnFewerSequencesThanTheBlockTrainsOnAndKeepsTheBlocksBatch(@TempDir Path dir) throws IOException {
        Path tuned = dir.resolve("tuned.octet");
        assertEquals(ExitCodes.OK, OctetMain.run("tune", TINY.toString(), "--steps", "1", "--calibration-batch", "1",
                "--out", tuned.toString()), console.err());
        assertTrue(console.out().contains("over 1 calibration steps of 1 x 128 tokens"), console.out());
        String recipe = Files.readString(tuned);
        assertTrue(recipe.contains("1 calibration steps of 1 x 128 tokens of training tiny_pretrain"), recipe);
        assertTrue(recipe.contains("micro_batch = 4") && recipe.contains("global_batch = 4"), "the tuned block trains as the original does");
    }

    @Test
    void calibratesFromTrainedWeightsAndRefusesAFileThatHoldsNone(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        assertEquals(ExitCodes.OK, OctetMain.run("train", TINY.toString(), "--device", "cpu", "--steps", "2",
                "--out", run.toString()), console.err());
        Path weights = run.resolve("checkpoints").resolve("step-00000002.safetensors");
        Path tuned = dir.resolve("tuned.octet");
        console.reset();
        assertEquals(ExitCodes.OK, OctetMain.run("tune", TINY.toString(), "--steps", "1", "--init", weights.toString(),
                "--out", tuned.toString()), console.err());
        String recipe = Files.readString(tuned);
        assertTrue(recipe.contains("(recipe infir2, seed 1) from the weights in " + weights), recipe);

        Path junk = Files.writeString(dir.resolve("junk.safetensors"), "not a safetensors file");
        console.reset();
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("tune", TINY.toString(), "--steps", "1", "--init", junk.toString(),
                "--out", dir.resolve("other.octet").toString()));
        assertEquals(1, console.err().strip().lines().count(), console.err());
        assertTrue(console.err().startsWith("octet tune: error: "), console.err());
        assertTrue(Files.notExists(dir.resolve("other.octet")), "nothing written");
    }

    @Test
    void commandLineMistakesAreOneLineUsageErrors(@TempDir Path dir) throws IOException {
        String out = dir.resolve("t.octet").toString();
        assertOneLine(ExitCodes.USAGE, "octet tune: error: no such file: nope.octet", "nope.octet", "--out", out);
        assertOneLine(ExitCodes.USAGE, "octet tune: error: --bound is a relative error between 0 and 1 (0.05 is 5%), not 2.0",
                TINY.toString(), "--bound", "2", "--out", out);
        assertOneLine(ExitCodes.USAGE, "octet tune: error: --steps must be at least 1", TINY.toString(), "--steps", "0", "--out", out);
        assertOneLine(ExitCodes.USAGE, "octet tune: error: no such file: nope.safetensors", TINY.toString(), "--init", "nope.safetensors",
                "--out", out);
        assertOneLine(ExitCodes.USAGE, "octet tune: error: --calibration-batch must be at least 1 sequence", TINY.toString(),
                "--calibration-batch", "0", "--out", out);
        assertOneLine(ExitCodes.USAGE, "octet tune: error: --out must name a .octet file, not " + dir.resolve("t.txt"),
                TINY.toString(), "--out", dir.resolve("t.txt").toString());
        assertOneLine(ExitCodes.USAGE, "octet tune: error: --out " + TINY + " would replace an input; write the tuned file elsewhere",
                TINY.toString(), "--out", TINY.toString());
        Files.writeString(Path.of(out), "# someone's file\n");
        assertOneLine(ExitCodes.USAGE, "octet tune: error: " + out + " exists; --force replaces it", TINY.toString(), "--out", out);
        assertEquals("# someone's file\n", Files.readString(Path.of(out)), "left as it was");
    }

    @Test
    void aRecipeWithNothingInFp8IsAOneLineError(@TempDir Path dir) throws IOException {
        Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
        String bf16 = Files.readString(TINY)
                .replace("\"recipes/infir2.octet\"", "\"" + examples.resolve("recipes").resolve("bf16.octet") + "\"")
                .replaceFirst("recipe\\s*=\\s*infir2", "recipe = bf16")
                .replace("\"data/", "\"" + examples.resolve("data") + "/");
        Path file = Files.writeString(dir.resolve("tiny-bf16.octet"), bf16);
        assertOneLine(ExitCodes.INVALID_INPUT, file + ": error: recipe 'bf16' keeps every GEMM in BF16, so there is nothing to tune; "
                + "give the training block an FP8 recipe such as infir2", file.toString(), "--out", dir.resolve("t.octet").toString());
    }

    private void assertOneLine(int code, String message, String... args) {
        console.reset();
        String[] command = new String[args.length + 1];
        command[0] = "tune";
        System.arraycopy(args, 0, command, 1, args.length);
        assertEquals(code, OctetMain.run(command), console.err());
        assertEquals(message, console.err().strip());
    }
}

package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.octet.gpu.ComputeCapability;
import dev.octet.gpu.CudaAvailability;
import dev.octet.testing.ConsoleCapture;
import dev.octet.train.BenchOptions;
import dev.octet.train.FakeBench;
import dev.octet.train.GemmPeak;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * {@code octet bench} on the CPU: its arguments, the recipes it selects, what it prints of a measurement (a fake
 * one, standing in for the GPU's) and its one line without a GPU.
 */
class BenchCommandTest {
    private static final String TINY = Path.of("..", "examples", "tiny.octet").toString();
    private static final CudaAvailability GPU = new CudaAvailability.Available("NVIDIA H200",
            new ComputeCapability(9, 0), 140L << 30, 1, 13000);
    private static final CudaAvailability NONE = new CudaAvailability.Unavailable("libcuda.so.1 cannot be loaded");

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    /** What the fake runner was asked: the recipe and options of each run. */
    private final List<String> recipes = new ArrayList<>();
    private final List<BenchOptions> options = new ArrayList<>();

    @BeforeEach
    void home() {
        System.setProperty("octet.home", "..");
    }

    @AfterEach
    void clearHome() {
        System.clearProperty("octet.home");
    }

    private int bench(CudaAvailability probe, String... args) {
        BenchCommand command = new BenchCommand(() -> probe, (selection, o, report) -> {
            recipes.add(selection.recipe().name());
            options.add(o);
            report.accept("device memory: (what the run would report)");
            return FakeBench.measurement(selection.recipe().name(), GemmPeak.of(selection.recipe()));
        });
        return new CommandLine(command).execute(args);
    }

    @Test
    void comparesRecipesInOneTableRowEach() {
        int code = bench(GPU, TINY, "--recipe", "bf16", "--recipe", "infir2", "--steps", "5", "--warmup", "1");
        assertEquals(ExitCodes.OK, code, console.err());
        assertEquals(List.of("bf16", "infir2"), recipes);
        assertEquals(List.of(new BenchOptions(5, 1, true), new BenchOptions(5, 1, true)), options);
        String out = console.out();
        assertTrue(out.contains("octet: timing tiny with recipe bf16: 1 warm-up and 5 timed steps"), out);
        assertTrue(out.contains("octet: device memory: (what the run would report)"), out);
        List<String> rows = out.lines().filter(l -> l.startsWith("bf16 ") || l.startsWith("infir2 ")).toList();
        assertEquals(2, rows.size(), out);
        // The peak comes from the recipe: bf16's GEMMs are all BF16, infir2's FP8.
        assertTrue(rows.get(0).contains(" bf16 ") && rows.get(0).contains("0.51%"), rows.get(0));
        assertTrue(rows.get(1).contains(" fp8 ") && rows.get(1).contains("0.25%"), rows.get(1));
    }

    @Test
    void profileAsksForALaunchByLaunchStep() {
        int code = bench(GPU, TINY, "--profile", "--steps", "2", "--no-cold-compile");
        assertEquals(ExitCodes.OK, code, console.err());
        assertEquals(List.of(new BenchOptions(2, 3, false, true)), options);
    }

    @Test
    void lossWorkspaceReachesTheCompileTargetAndIsCheckedFirst() {
        int code = bench(GPU, TINY, "--loss-workspace", "64", "--steps", "2", "--no-cold-compile");
        assertEquals(ExitCodes.OK, code, console.err());
        assertEquals(List.of(new BenchOptions(2, 3, false, false, OptionalLong.of(64L << 20))), options);
        options.clear();
        assertEquals(ExitCodes.USAGE, bench(GPU, TINY, "--loss-workspace", "-1"));
        assertTrue(console.err().contains("--loss-workspace must be 0 or more MiB"), console.err());
        assertTrue(options.isEmpty(), "nothing was timed");
    }

    @Test
    void defaultsToTheTrainingBlocksRecipeAndPrintsJsonLinesAlone() {
        int code = bench(GPU, TINY, "--json", "--no-cold-compile");
        assertEquals(ExitCodes.OK, code, console.err());
        assertEquals(List.of("infir2"), recipes);
        assertEquals(List.of(new BenchOptions(20, 3, false)), options);
        List<String> lines = console.out().lines().toList();
        assertEquals(1, lines.size(), console.out());
        JsonObject o = JsonParser.parseString(lines.getFirst()).getAsJsonObject();
        assertEquals("infir2", o.get("recipe").getAsString());
        assertEquals("fp8", o.get("gemm_precision").getAsString());
        // Progress goes to stderr, so stdout can be piped to a script.
        assertTrue(console.err().contains("octet: timing tiny with recipe infir2"), console.err());
    }

    @Test
    void aRecipeNamedTwiceIsTimedOnce() {
        assertEquals(ExitCodes.OK, bench(GPU, TINY, "--recipe", "bf16", "--recipe", "bf16", "--json"));
        assertEquals(List.of("bf16"), recipes);
        assertEquals(1, console.out().lines().count());
    }

    @Test
    void wrongArgumentsAreUsageErrorsBeforeAnythingRuns() {
        assertEquals(ExitCodes.USAGE, bench(GPU, TINY, "--steps", "0"));
        assertTrue(console.err().contains("--steps must be at least 1"), console.err());
        assertEquals(ExitCodes.USAGE, bench(GPU, TINY, "--warmup", "-1"));
        assertTrue(console.err().contains("--warmup must be 0 or more"), console.err());
        assertEquals(ExitCodes.USAGE, bench(GPU, "no-such.octet"));
        assertEquals(ExitCodes.USAGE, bench(GPU, TINY, "--steps", "many"));
        // A misspelt recipe is refused before the good one before it is timed.
        assertEquals(ExitCodes.USAGE, bench(GPU, TINY, "--recipe", "bf16", "--recipe", "infir3"));
        assertTrue(console.err().contains("no recipe 'infir3'"), console.err());
        assertEquals(List.of(), recipes);
    }

    @Test
    void aFileWithoutATrainingBlockIsInvalidInput() {
        String llama = Path.of("..", "examples", "llama3.2-1b.octet").toString();
        assertEquals(ExitCodes.INVALID_INPUT, bench(GPU, llama));
        assertTrue(console.err().contains("no training block"), console.err());
        assertEquals(List.of(), recipes);
    }

    @Test
    void withoutAGpuItSaysSoInOneLineWithTheExitCodeOfTrainOnCuda() {
        assertEquals(ExitCodes.INVALID_INPUT, bench(NONE, TINY, "--recipe", "bf16"));
        assertEquals("error: octet bench runs on the GPU: libcuda.so.1 cannot be loaded", console.err().strip());
        assertEquals("", console.out());
        assertEquals(List.of(), recipes);
    }

    @Test
    void isACommandOfOctetAndOnThisMachineWithoutAGpuRefusesInOneLine() {
        assertEquals(ExitCodes.OK, OctetMain.run("bench", "--help"));
        assertTrue(console.out().contains("--recipe") && console.out().contains("--warmup"), console.out());
        assumeTrue(CudaAvailability.probe() instanceof CudaAvailability.Unavailable, "this machine has a GPU");
        console.reset();
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("bench", TINY));
        String message = console.err().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("error: octet bench runs on the GPU: "), message);
    }
}

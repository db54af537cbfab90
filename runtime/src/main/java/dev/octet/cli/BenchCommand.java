package dev.octet.cli;

import dev.octet.compiler.UnsupportedShapeException;
import dev.octet.dsl.check.RecipeFit;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.CudaAvailability;
import dev.octet.gpu.CudaException;
import dev.octet.gpu.CudaUnavailableException;
import dev.octet.gpu.NvrtcCompileException;
import dev.octet.gpu.NvrtcException;
import dev.octet.train.BenchMeasurement;
import dev.octet.train.BenchOptions;
import dev.octet.train.BenchReport;
import dev.octet.train.DeviceMemoryShortfallException;
import dev.octet.train.StepBenchmark;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code octet bench FILE}: times the training block's step on the GPU under each recipe named and prints one
 * row (or one JSON object) per recipe. The measuring is {@link StepBenchmark}'s; this checks the command line
 * and the inputs, runs it per recipe and prints {@link BenchReport}'s table or JSON.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the training step of FILE's training block on the GPU for each recipe: median step time, tokens/s, model TFLOP/s, MFU, device memory and compile time.")
final class BenchCommand implements Callable<Integer> {
    /** Measures one selection; {@link StepBenchmark#run} on the device, a fake in tests. */
    interface Runner {
        BenchMeasurement run(Selection selection, BenchOptions options, Consumer<String> report);
    }

    @Parameters(paramLabel = "FILE", description = "a .octet file with a training block, e.g. examples/tiny.octet")
    Path file;

    @Option(names = "--recipe", paramLabel = "R",
            description = "a recipe to time (a name such as bf16, infir2, rowwise, or a file); repeat to compare; default: the training block's")
    List<String> recipes = new ArrayList<>();

    @Option(names = "--steps", paramLabel = "N", defaultValue = "20", description = "timed steps per recipe (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "3", description = "untimed steps before them (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--json", description = "one JSON object per recipe on a line, for scripts, instead of the table")
    boolean json;

    @Option(names = "--no-cold-compile",
            description = "do not compile the kernels into an empty cache first; they load through the kernel cache and the row says how many came from it")
    boolean noColdCompile;

    @Option(names = "--profile",
            description = "after the timed steps, time one more launch by launch: where the step goes by kernel family "
                    + "(GEMM by role, attention, quantize, norm, elementwise, loss, optimizer) and by layer, with each "
                    + "family's share and rate against the chip's peak")
    boolean profile;

    @Option(names = "--loss-workspace", paramLabel = "MIB", description = LossWorkspaceOption.DESCRIPTION)
    Long lossWorkspaceMib;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final Supplier<CudaAvailability> probe;
    private final Runner runner;

    BenchCommand() {
        this(CudaAvailability::probe, (s, options, report) -> StepBenchmark.run(s.model(), s.recipe(),
                s.training().orElseThrow(), options, report));
    }

    BenchCommand(Supplier<CudaAvailability> probe, Runner runner) {
        this.probe = probe;
        this.runner = runner;
    }

    @Override
    public Integer call() {
        Inputs.requireFiles(spec, List.of(file));
        if (steps < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--steps must be at least 1");
        }
        if (warmup < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--warmup must be 0 or more");
        }
        if (probe.get() instanceof CudaAvailability.Unavailable u) {
            System.err.println("error: octet bench runs on the GPU: " + u.reason());
            return ExitCodes.INVALID_INPUT;
        }
        // Every recipe is checked before the first is timed: a misspelt second one should not wait for the first.
        List<Selection> selections = new ArrayList<>();
        OptionalLong workspace = OptionalLong.empty();
        for (String r : recipes.isEmpty() ? java.util.Collections.<String>singletonList(null) : new LinkedHashSet<>(recipes)) {
            Optional<Selection> s = Selection.load(spec, file, r, Selection.Training.REQUIRED,
                    "octet bench times a training block's step (see examples/tiny.octet)");
            if (s.isEmpty()) {
                return ExitCodes.INVALID_INPUT;
            }
            TrainingSpec t = s.get().training().orElseThrow();
            Diagnostics diagnostics = new Diagnostics();
            RecipeFit.check(s.get().model(), s.get().recipe(), OptionalInt.of(t.microBatch() * t.seqLen()), t.pos(), diagnostics);
            if (diagnostics.hasErrors()) {
                System.err.print(DiagnosticPrinter.render(diagnostics));
                return ExitCodes.INVALID_INPUT;
            }
            workspace = LossWorkspaceOption.bytes(spec, lossWorkspaceMib, t.microBatch() * t.seqLen(), s.get().model().config());
            selections.add(s.get());
        }
        BenchOptions options = new BenchOptions(steps, warmup, !noColdCompile, profile, workspace);
        // With --json, stdout holds the JSON lines alone; what a run reports on the way goes to stderr.
        PrintStream progress = json ? System.err : System.out;
        List<BenchMeasurement> measured = new ArrayList<>();
        for (Selection s : selections) {
            progress.println("octet: timing " + s.model().name() + " with recipe " + s.recipe().name() + ": " + warmup
                    + " warm-up and " + steps + " timed steps");
            BenchMeasurement m;
            try {
                m = runner.run(s, options, line -> progress.println("octet: " + line));
            } catch (CudaException | CudaUnavailableException | NvrtcException | NvrtcCompileException
                     | DeviceMemoryShortfallException e) {
                return DeviceMemoryErrors.report(e);
            } catch (UnsupportedShapeException e) {
                System.err.println("octet: the CUDA backend cannot compile " + s.model().name() + ": " + e.getMessage());
                return ExitCodes.INVALID_INPUT;
            }
            measured.add(m);
            if (json) {
                System.out.println(BenchReport.json(m));
            }
        }
        if (!json) {
            System.out.print(BenchReport.table(measured));
        }
        return ExitCodes.OK;
    }
}

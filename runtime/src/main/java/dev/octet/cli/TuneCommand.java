package dev.octet.cli;

import dev.octet.checkpoint.AtomicFile;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.SafetensorsFormatException;
import dev.octet.cpu.exec.NonFiniteTensorException;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.check.RecipeFit;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.report.TuneHeatMap;
import dev.octet.train.CpuCalibration;
import dev.octet.tune.CalibrationRecorder;
import dev.octet.tune.KernelRates;
import dev.octet.tune.MeasuredPricing;
import dev.octet.tune.OperandMeasurements;
import dev.octet.tune.Pricing;
import dev.octet.tune.RecipeTuner;
import dev.octet.tune.SpeedRanking;
import dev.octet.tune.TuneDecision;
import dev.octet.tune.TuneReportName;
import dev.octet.tune.TunedRecipeFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code octet tune FILE --out tuned.octet}: runs calibration steps of FILE's training block on the CPU backend,
 * measures every FP8 candidate on every quantized operand, and writes the cheapest recipe within a fidelity bound
 * (and an HTML heat map beside it).
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = "Measure FP8 candidates (granularity, format, scale) on every quantized GEMM operand over calibration steps "
                + "on the CPU, and write the cheapest recipe whose GEMM errors stay within a bound, with an HTML heat map beside it.")
final class TuneCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "a .octet file with a training block, e.g. examples/tiny.octet")
    Path file;

    @Option(names = "--out", required = true, paramLabel = "TUNED.octet",
            description = "the tuned file to write; the report goes beside it (TUNED.html)")
    Path out;

    @Option(names = "--data", paramLabel = "D", description = "calibrate on this data instead of the training block's")
    Path data;

    @Option(names = "--init", paramLabel = "WEIGHTS",
            description = "calibrate from these weights instead of the seed's initialisation, as octet train --init: an imported "
                    + "model's weights.safetensors or a checkpoint (the weights continued training starts from)")
    Path init;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "4", description = "calibration steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--calibration-batch", paramLabel = "N",
            description = "sequences per calibration step (default: the training block's micro_batch); the CPU holds a step's "
                    + "activations and logits in FP64, so a large model calibrates on fewer sequences than it trains on")
    Integer calibrationBatch;

    @Option(names = "--bound", paramLabel = "B", defaultValue = "" + RecipeTuner.DEFAULT_BOUND,
            description = "the largest GEMM relative error an operand may add, e.g. 0.05 for 5%% (default ${DEFAULT-VALUE})")
    double bound;

    @Option(names = "--speed", paramLabel = "HOW", defaultValue = "measured",
            description = "how candidates are priced: measured (the step each compiles to, every launch priced from Octet's "
                    + "kernel rates measured on an H200) or fixed (a ranking of the FP8 GEMM's work per scale); default ${DEFAULT-VALUE}")
    String speed;

    @Option(names = "--tokenizer", paramLabel = "T", defaultValue = "gpt2",
            description = "tokenizer of a .jsonl conversation file (mode = sft): gpt2, cl100k or PATH/tokenizer.json (default ${DEFAULT-VALUE})")
    String tokenizer;

    @Option(names = "--force", description = "replace TUNED.octet and its report if they exist")
    boolean force;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path report = TuneReportName.beside(out);
        Optional<String> wrong = commandLineProblem(report);
        if (wrong.isPresent()) {
            System.err.println("octet tune: error: " + wrong.get());
            return ExitCodes.USAGE;
        }
        Optional<Selection> selected = Selection.load(spec, file, null, Selection.Training.REQUIRED,
                "tuning runs the first steps of a training block (see examples/tiny.octet)");
        if (selected.isEmpty()) {
            return ExitCodes.INVALID_INPUT;
        }
        TrainingSpec t = selected.get().training().orElseThrow();
        int sequences = calibrationBatch == null ? t.microBatch() : calibrationBatch;
        // One micro-batch of `sequences` per calibration step: the tuned file keeps the block's own batch (t).
        TrainingSpec calibrated = t.withBatch(sequences, sequences);
        ModelSpec model = selected.get().model();
        RecipeSpec r = selected.get().recipe();
        int layers = model.config().layers();
        boolean anyFp8 = ParameterTable.of(model).linears().stream().anyMatch(l -> !r.bf16().keepsBf16(l.projection(), l.layer(), layers));
        if (!anyFp8) {
            System.err.println(file + ": error: recipe '" + r.name() + "' keeps every GEMM in BF16, so there is nothing to tune; "
                    + "give the training block an FP8 recipe such as infir2");
            return ExitCodes.INVALID_INPUT;
        }
        Diagnostics diagnostics = new Diagnostics();
        RecipeFit.check(model, r, OptionalInt.of(sequences * t.seqLen()), t.pos(), diagnostics);
        if (diagnostics.hasErrors()) {
            System.err.print(DiagnosticPrinter.render(diagnostics));
            return ExitCodes.INVALID_INPUT;
        }
        Optional<Path> dataFile = data != null ? Optional.of(data) : t.data().map(d -> resolveBeside(file, d));
        if (dataFile.isEmpty() || !Files.isRegularFile(dataFile.get())) {
            System.err.println(new SourcePos(file.toString(), t.pos().line(), t.pos().column(), 1) + ": error: training data not found: "
                    + dataFile.map(Path::toString).orElse("(none given)") + "; set data = \"path\" or pass --data");
            return ExitCodes.INVALID_INPUT;
        }
        TrainingDataFiles.Loaded loaded;
        try {
            loaded = TrainingDataFiles.load(dataFile.get(), calibrated, model, tokenizer, BadRecordPolicyOption.parse(spec, "stop"));
        } catch (IOException | RuntimeException e) {
            String message = e.getMessage() != null && e.getMessage().startsWith(dataFile.get().toString()) ? e.getMessage()
                    : dataFile.get() + ": error: cannot read training data: " + e.getMessage();
            System.err.println(message);
            return ExitCodes.INVALID_INPUT;
        }
        System.out.printf(Locale.ROOT, "octet: tuning %s (recipe %s) over %d calibration steps of %d x %d tokens on the CPU; bound %.2f%% GEMM error per operand%n",
                model.name(), r.name(), steps, sequences, t.seqLen(), 100 * bound);
        CalibrationRecorder recorder = new CalibrationRecorder(r, layers);
        try {
            CpuCalibration.run(model, r, calibrated, loaded.data(), steps, Optional.ofNullable(init), recorder);
        } catch (NonFiniteTensorException e) {
            System.err.println("octet: calibration diverged: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        } catch (CheckpointException | SafetensorsFormatException e) {
            System.err.println("octet tune: error: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
        List<OperandMeasurements> measured = recorder.measurements();
        if (measured.isEmpty()) {
            System.err.println("octet: error: no finite FP8 operand in " + steps + " calibration steps; nothing was measured");
            return ExitCodes.INVALID_INPUT;
        }
        Pricing pricing = speed.equals("fixed") ? SpeedRanking.FIXED
                : KernelRates.shipped(KernelRates.H200).<Pricing>map(rates -> new MeasuredPricing(model, r, t, rates))
                        .orElse(SpeedRanking.FIXED);
        TuneDecision decision = RecipeTuner.decide(measured, bound, pricing);
        TunedRecipeFile.Calibration calibration = new TunedRecipeFile.Calibration(file, dataFile.get(), t, r, steps, sequences,
                Optional.ofNullable(init));
        String recipeText = TunedRecipeFile.render(out, calibration, decision);
        String title = "Octet tuning report: " + TunedRecipeFile.recipeName(r);
        String summary = String.format(Locale.ROOT, "%s, training %s, recipe %s: %d calibration steps on %s; bound %.2f%% GEMM relative error per operand; the recipe: %s.",
                file, t.name(), r.name(), steps, dataFile.get(), 100 * bound, out.getFileName());
        Path parent = out.toAbsolutePath().normalize().getParent();
        Files.createDirectories(parent);
        AtomicFile.write(out, ch -> ch.write(ByteBuffer.wrap(recipeText.getBytes(StandardCharsets.UTF_8))));
        String page = TuneHeatMap.render(title, summary, measured, decision);
        AtomicFile.write(report, ch -> ch.write(ByteBuffer.wrap(page.getBytes(StandardCharsets.UTF_8))));

        Diagnostics written = new Diagnostics();
        Inputs.load(List.of(out), written);
        if (written.hasErrors()) {
            System.err.print(DiagnosticPrinter.render(written));
            System.err.println("octet: internal error: the tuned file does not check");
            return ExitCodes.INTERNAL;
        }
        long fp8 = measured.stream().map(m -> m.id().linear()).distinct().filter(l -> !decision.keptBf16(l)).count();
        long total = measured.stream().map(m -> m.id().linear()).distinct().count();
        System.out.printf(Locale.ROOT, "octet: wrote %s (%d of %d tuned linear layers in FP8) and %s%n", out, fp8, total, report);
        return ExitCodes.OK;
    }

    /** What is wrong with the command line, said in one line; empty when nothing is. */
    private Optional<String> commandLineProblem(Path report) {
        if (!Files.isRegularFile(file)) {
            return Optional.of("no such file: " + file);
        }
        if (data != null && !Files.isRegularFile(data)) {
            return Optional.of("no such file: " + data);
        }
        if (init != null && !Files.isRegularFile(init)) {
            return Optional.of("no such file: " + init);
        }
        if (steps < 1) {
            return Optional.of("--steps must be at least 1");
        }
        if (!speed.equals("measured") && !speed.equals("fixed")) {
            return Optional.of("--speed is measured or fixed, not " + speed);
        }
        if (calibrationBatch != null && calibrationBatch < 1) {
            return Optional.of("--calibration-batch must be at least 1 sequence");
        }
        if (!(bound > 0 && bound < 1)) {
            return Optional.of("--bound is a relative error between 0 and 1 (0.05 is 5%), not " + bound);
        }
        if (!out.getFileName().toString().endsWith(".octet")) {
            return Optional.of("--out must name a .octet file, not " + out);
        }
        List<Path> inputs = new ArrayList<>(List.of(file));
        if (data != null) {
            inputs.add(data);
        }
        if (init != null) {
            inputs.add(init);
        }
        if (OutputPaths.sameAsAnInput(out, inputs).isPresent() || OutputPaths.sameAsAnInput(report, inputs).isPresent()) {
            return Optional.of("--out " + out + " would replace an input; write the tuned file elsewhere");
        }
        if (!force && (Files.exists(out) || Files.exists(report))) {
            return Optional.of((Files.exists(out) ? out : report) + " exists; --force replaces it");
        }
        return Optional.empty();
    }

    private static Path resolveBeside(Path file, String relative) {
        Path p = Path.of(relative);
        if (p.isAbsolute()) {
            return p;
        }
        Path dir = file.getParent();
        return dir == null ? p : dir.resolve(p);
    }
}

package dev.octet.cli;

import dev.octet.compiler.UnsupportedShapeException;
import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.CheckpointShards;
import dev.octet.checkpoint.SafetensorsFormatException;
import dev.octet.cpu.exec.NonFiniteTensorException;
import dev.octet.dist.HostCollectives;
import dev.octet.dist.RankBatches;
import dev.octet.dist.RankEnvironment;
import dev.octet.dist.RankFailureException;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.check.RecipeFit;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.diag.Excerpt;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.train.Checkpointing;
import dev.octet.train.Fp8HealthLog;
import dev.octet.train.MetricsLog;
import dev.octet.train.RunSettings;
import dev.octet.train.StepLogs;
import dev.octet.gpu.CudaException;
import dev.octet.gpu.CudaUnavailableException;
import dev.octet.gpu.NvrtcCompileException;
import dev.octet.gpu.NvrtcException;
import dev.octet.train.CpuTrainer;
import dev.octet.train.DeviceMemoryShortfallException;
import dev.octet.train.GpuTrainer;
import dev.octet.train.Monitoring;
import dev.octet.train.TrainingOptions;
import dev.octet.train.TrainingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code octet train FILE}: runs the file's training block on a CUDA device or the CPU reference backend. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the model of FILE's training block on a CUDA device, or on the CPU reference backend (FP8 simulated bit for bit).")
final class TrainCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "a .octet file with a training block, e.g. examples/tiny.octet")
    Path file;

    @Option(names = "--recipe", paramLabel = "R", description = "override the training block's recipe: a name (bf16, infir2, rowwise, tensorwise-delayed) or a file")
    String recipe;

    @Option(names = "--steps", paramLabel = "N", description = "override the number of optimizer steps")
    Integer steps;

    @Option(names = "--out", paramLabel = "RUN_DIR", description = "where metrics.jsonl and checkpoints/ go; default runs/<training>-<recipe>-<time>")
    Path out;

    @Option(names = "--log-every", paramLabel = "N", defaultValue = "10", description = "metrics line every N steps (default ${DEFAULT-VALUE})")
    int logEvery;

    @Option(names = "--health-every", paramLabel = "N", defaultValue = "50",
            description = "measure FP8 saturation, flush-to-zero, amax and SNR of every quantized operand every N steps into RUN_DIR/fp8_health.jsonl; 0: never (default ${DEFAULT-VALUE})")
    int healthEvery;

    @Option(names = "--eval-every", paramLabel = "N", defaultValue = "50",
            description = "held-out loss (eval_loss in metrics.jsonl) every N steps; always at the end; 0: only at the end (default ${DEFAULT-VALUE})")
    int evalEvery;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "0",
            description = "write a checkpoint into RUN_DIR/checkpoints every N steps; one is always written at the end and on Ctrl-C/SIGTERM")
    int checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "K", defaultValue = "" + CheckpointDirectory.DEFAULT_KEEP,
            description = "keep the newest K checkpoints (default ${DEFAULT-VALUE})")
    int keepCheckpoints;

    @Option(names = "--resume", description = "continue the run in --out RUN_DIR from its latest checkpoint; metrics logged after"
            + " its step are cut, then appended to (a run stopped before its first checkpoint is run again from step 0)")
    boolean resume;

    @Option(names = "--override", paramLabel = "SETTING", split = ",",
            description = "with --resume: let these settings differ from the checkpoint's (seed, recipe, optimizer, schedule, "
                    + "clip_grad_norm, batch, data); each change is recorded in RUN_DIR/overrides.jsonl. Without it such a resume is refused")
    List<String> overrides = List.of();

    @Option(names = "--init", paramLabel = "WEIGHTS",
            description = "start from these weights instead of a random initialisation: an imported model's weights.safetensors (octet import hf) or a checkpoint; tensors are matched by name and shape")
    Path init;

    @Option(names = "--tokenizer", paramLabel = "T", defaultValue = "gpt2",
            description = "tokenizer of a .jsonl conversation file (mode = sft): gpt2, cl100k or PATH/tokenizer.json (default ${DEFAULT-VALUE})")
    String tokenizer;

    @Option(names = "--on-bad-record", paramLabel = "stop|skip", defaultValue = "stop",
            description = "a bad conversation record stops with its file:line (stop, the default) or is skipped and counted (skip)")
    String onBadRecord;

    @Option(names = "--device", paramLabel = "cpu|cuda|auto", defaultValue = "auto",
            description = "where the step runs: cuda (the compiled kernels, replayed as CUDA graphs), cpu (the reference interpreter) or auto: cuda when a device is found, else cpu (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--loss-workspace", paramLabel = "MIB", description = LossWorkspaceOption.DESCRIPTION
            + "; the GPU step only")
    Long lossWorkspaceMib;

    @Option(names = "--gpus", paramLabel = "N",
            description = "data parallel over N processes of this host (this one is rank 0 and starts the others), one GPU each, or the CPU interpreter with --device cpu: "
                    + "each trains on its share of every step. A launcher that sets RANK and WORLD_SIZE starts ranks itself (docs/gpu.md)")
    Integer gpus;

    /** How long the ranks of a data-parallel run wait for each other to start. */
    private static final java.time.Duration RENDEZVOUS_TIMEOUT = java.time.Duration.ofMinutes(2);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Inputs.requireFiles(spec, List.of(file));
        RankEnvironment rank;
        try {
            rank = RankEnvironment.fromProcess();
        } catch (IllegalArgumentException e) {
            System.err.println("octet train: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        if (gpus != null && gpus < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--gpus must be 1 or more, not " + gpus);
        }
        if (gpus != null && !rank.isSingle() && gpus != rank.worldSize()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--gpus " + gpus + " disagrees with "
                    + RankEnvironment.WORLD_SIZE + "=" + rank.worldSize() + " set by the launcher; leave --gpus out");
        }
        if (!rank.isSingle() && out == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "rank " + rank.rank() + " of " + rank.worldSize()
                    + " needs --out RUN_DIR, the same directory on every rank");
        }
        boolean startsRanks = rank.isSingle() && gpus != null && gpus > 1;
        int worldSize = startsRanks ? gpus : rank.worldSize();
        // Rank 0 checks and writes the run directory; the other ranks read it.
        boolean leader = rank.rank() == 0;
        if (steps != null && steps < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--steps must be at least 1");
        }
        if (logEvery < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--log-every must be at least 1");
        }
        if (healthEvery < 0 || evalEvery < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--health-every and --eval-every must be 0 (off) or more");
        }
        if (checkpointEvery < 0 || keepCheckpoints < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--checkpoint-every must be 0 or more, --keep-checkpoints at least 1");
        }
        if (resume && out == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--resume needs --out RUN_DIR: the run to continue");
        }
        if (init != null && resume) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--init starts a new run and --resume continues one; give one of them");
        }
        if (init != null && !CheckpointShards.isShardDirectory(init)) {
            Inputs.requireFiles(spec, List.of(init));  // a weights or checkpoint file, or a checkpoint's shards
        }
        for (String setting : overrides) {
            if (!RunSettings.NAMES.contains(setting)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--override takes " + String.join(", ", RunSettings.NAMES)
                        + ", not " + Excerpt.clip(setting));
            }
        }
        if (!overrides.isEmpty() && !resume) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--override applies to --resume: a new run takes its settings as given");
        }
        Optional<DeviceOption.Choice> chosen = DeviceOption.forCommand(spec, device, "training");
        if (chosen.isEmpty()) {
            return ExitCodes.INVALID_INPUT;
        }
        DeviceOption.Choice placement = chosen.get();
        boolean onGpu = placement instanceof DeviceOption.Choice.Cuda;
        if (onGpu && worldSize > 1 && (startsRanks ? worldSize : rank.localRank() + 1)
                > ((DeviceOption.Choice.Cuda) placement).device().deviceCount()) {
            System.err.println("octet train: " + worldSize + " ranks on this host need as many GPUs; it has "
                    + ((DeviceOption.Choice.Cuda) placement).device().deviceCount());
            return ExitCodes.USAGE;
        }
        Optional<Selection> selected = Selection.load(spec, file, recipe, Selection.Training.REQUIRED,
                "add 'training { model = ... }' (see examples/tiny.octet)");
        if (selected.isEmpty()) {
            return ExitCodes.INVALID_INPUT;
        }
        TrainingSpec t = selected.get().training().orElseThrow();
        ModelSpec model = selected.get().model();
        RecipeSpec r = selected.get().recipe();
        Diagnostics diagnostics = new Diagnostics();
        RecipeFit.check(model, r, OptionalInt.of(t.microBatch() * t.seqLen()), t.pos(), diagnostics);
        if (diagnostics.hasErrors()) {
            System.err.print(DiagnosticPrinter.render(diagnostics));
            return ExitCodes.INVALID_INPUT;
        }
        try {
            RankBatches.shareOf(t.accumulation(), worldSize);
        } catch (IllegalArgumentException e) {
            System.err.println("octet train: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        OptionalLong lossWorkspace = LossWorkspaceOption.bytes(spec, lossWorkspaceMib, t.microBatch() * t.seqLen(), model.config());
        Optional<Path> dataFile = t.data().map(d -> resolveBeside(file, d));
        if (dataFile.isEmpty() || !Files.isRegularFile(dataFile.get())) {
            String where = dataFile.map(Path::toString).orElse("(none given)");
            System.err.println(new SourcePos(file.toString(), t.pos().line(), t.pos().column(), 1)
                    + ": error: training data not found: " + where + "; set data = \"path\" relative to " + file);
            return ExitCodes.INVALID_INPUT;
        }
        Path runDir = out != null ? out : Path.of("runs", t.name() + "-" + r.name() + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        CheckpointDirectory checkpoints = CheckpointDirectory.of(runDir, keepCheckpoints);
        Optional<Path> resumeFrom = Optional.empty();
        int n = steps != null ? steps : t.steps();
        Path metricsFile = runDir.resolve(MetricsLog.FILE_NAME);
        boolean restart = false;
        if (resume && checkpoints.latest().isEmpty()) {
            if (!Files.exists(metricsFile)) {
                System.err.println(checkpoints.dir() + ": error: no checkpoint to resume from");
                return ExitCodes.INVALID_INPUT;
            }
            // Stopped before its first checkpoint: nothing of it can be continued, and a run is deterministic,
            // so resuming it is running it again from step 0 in place of the steps it logged.
            restart = true;
            if (leader) {
                System.out.println("octet: " + runDir + " has no checkpoint yet (it stopped before its first); running it again from step 0");
            }
        }
        if (resume && !restart) {
            Optional<CheckpointDirectory.Entry> latest = checkpoints.latest();
            try {
                CheckpointMetadata saved = CpuTrainer.checkpointFor(latest.get().file(), model);
                n = steps != null ? steps : Math.toIntExact(saved.totalSteps());
                if (saved.step() >= n) {
                    System.err.println(latest.get().file() + ": error: the run already completed " + saved.step() + " of " + n
                            + " steps; pass --steps with more to continue it");
                    return ExitCodes.INVALID_INPUT;
                }
                System.out.printf(java.util.Locale.ROOT, "octet: resuming %s at step %d of %d from %s%n", saved.training(),
                        saved.step(), n, latest.get().file());
                List<RunSettings.Change> changes = RunSettings.changes(saved.runSettings(), RunSettings.of(t, r));
                RunSettings.requireOverridden(latest.get().file(), changes, Set.copyOf(overrides));
                for (RunSettings.Change c : changes) {
                    System.out.printf(java.util.Locale.ROOT, "octet: --override %s: %s %s -> %s from step %d (recorded in %s)%n",
                            c.setting(), c.key(), Excerpt.clip(c.was()), Excerpt.clip(c.now()), saved.step(),
                            runDir.resolve(RunSettings.OVERRIDES_FILE));
                }
            } catch (IOException e) {
                System.err.println("error: " + e.getMessage());
                return ExitCodes.INVALID_INPUT;
            }
            resumeFrom = latest.map(CheckpointDirectory.Entry::file);
        } else if (!resume && leader && (Files.exists(metricsFile) || checkpoints.latest().isPresent())) {
            // A new run here would mix its metrics and checkpoints with the old run's, and rotate them out.
            System.err.println(runDir + ": error: already holds a run" + (checkpoints.latest().isEmpty()
                    ? " (stopped before its first checkpoint); --resume runs it again from step 0, or choose another --out"
                    : "; --resume continues it, or choose another --out"));
            return ExitCodes.USAGE;
        }
        Files.createDirectories(runDir);
        if (restart && leader) {
            StepLogs.truncate(metricsFile, 0);
            StepLogs.truncate(runDir.resolve(Fp8HealthLog.FILE_NAME), 0);
        }
        if (leader) {
            RunModelFile.writeIfExportable(runDir, model);
        }
        RankProcesses otherRanks = null;
        HostCollectives collectives;
        try {
            if (startsRanks) {
                int port = RankProcesses.rendezvousPort();
                rank = new RankEnvironment(0, worldSize, 0, "127.0.0.1", port);
                otherRanks = RankProcesses.start(worldSize, port, RankProcesses.forOtherRanks(trainArguments(), runDir), System.err);
            }
            // The ranks meet before loading data, so one that dies while loading is noticed at the first step.
            collectives = HostCollectives.connect(rank, RENDEZVOUS_TIMEOUT);
        } catch (IOException | IllegalArgumentException e) {
            if (otherRanks != null) {
                otherRanks.close();
            }
            System.err.println("octet train: data-parallel ranks could not meet: " + e.getMessage());
            return ExitCodes.RANK_FAILED;
        }
        if (worldSize > 1) {
            System.out.printf(java.util.Locale.ROOT, "octet: rank %d of %d; each trains on %d of the %d micro-batches of a step%n",
                    rank.rank(), worldSize, t.accumulation() / worldSize, t.accumulation());
        }
        try (RankProcesses started = otherRanks; HostCollectives ranks = collectives) {
            int code = trainAs(ranks, rank.localRank(), leader, n, runDir, resumeFrom, lossWorkspace, dataFile.get(), model, r, t,
                    placement);
            if (code != ExitCodes.OK && code != ExitCodes.RANK_FAILED && worldSize > 1) {
                // This rank printed why; the others stop with a line naming it instead of waiting for it.
                ranks.stop("rank " + rank.rank() + " stopped: it failed with exit code " + code);
            }
            if (started != null) {
                Optional<String> failed = started.awaitAll(code == ExitCodes.OK ? 60 : 0);
                if (failed.isPresent() && code == ExitCodes.OK) {
                    System.err.println("octet train: " + failed.get());
                    return ExitCodes.RANK_FAILED;
                }
            }
            return code;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.RANK_FAILED;
        }
    }

    /** Loads the data and trains as one rank of {@code ranks} (the only one, in a run of one process). */
    private int trainAs(HostCollectives ranks, int localRank, boolean leader, int n, Path runDir, Optional<Path> resumeFrom,
                        OptionalLong lossWorkspace, Path dataPath, ModelSpec model, RecipeSpec r, TrainingSpec t,
                        DeviceOption.Choice placement) throws IOException {
        boolean onGpu = placement instanceof DeviceOption.Choice.Cuda;
        System.out.printf(java.util.Locale.ROOT, "octet: training %s with recipe %s on the %s: %s%n", model.name(), r.name(),
                placement instanceof DeviceOption.Choice.Cuda cuda ? "GPU (" + cuda.device().deviceName() + ")" : "CPU", r.describe());
        TrainingDataFiles.Loaded data;
        try {
            data = TrainingDataFiles.load(dataPath, t, model, tokenizer, BadRecordPolicyOption.parse(spec, onBadRecord));
        } catch (IOException | RuntimeException e) {
            String message = e.getMessage() != null && e.getMessage().startsWith(dataPath.toString()) ? e.getMessage()
                    : dataPath + ": error: cannot read training data: " + e.getMessage();
            System.err.println(message);
            return ExitCodes.INVALID_INPUT;
        }
        TokenizeCommand.reportSkipped(data.skipped());
        System.out.printf(java.util.Locale.ROOT, "octet: %s: %s; %d x %d tokens per step%n",
                dataPath, data.summary(), t.globalBatch(), t.seqLen());
        // Open until the outcome is printed: a shutdown under way waits for it.
        try (GracefulStop stop = GracefulStop.install()) {
            TrainingOptions options = new TrainingOptions(n, runDir, logEvery, 8, true)
                    .withCheckpointing(Checkpointing.every(checkpointEvery, keepCheckpoints))
                    .stoppingWhen(stop)
                    .monitoring(new Monitoring(healthEvery, evalEvery));
            options = options.overriding(Set.copyOf(overrides));
            if (lossWorkspace.isPresent()) {
                options = options.withLossWorkspace(lossWorkspace.getAsLong());
            }
            if (init != null) {
                options = options.initializedFrom(init);
                System.out.println("octet: starting from the weights in " + init);
            }
            TrainingResult result;
            try {
                TrainingOptions run = resumeFrom.map(options::resumingFrom).orElse(options);
                result = onGpu ? GpuTrainer.train(model, r, t, data.data(), run, line -> System.out.println("octet: " + line),
                        ranks, localRank) : CpuTrainer.train(model, r, t, data.data(), run, ranks);
            } catch (RankFailureException e) {
                System.err.println("octet train: " + e.getMessage() + "; the run stopped"
                        + CheckpointDirectory.of(runDir, 1).latest().map(c -> ", its last checkpoint is " + c.file()).orElse(" before its first checkpoint"));
                return ExitCodes.RANK_FAILED;
            } catch (NonFiniteTensorException e) {
                System.err.println("octet: training diverged: " + e.getMessage() + "; metrics so far are in " + runDir);
                return ExitCodes.INVALID_INPUT;
            } catch (CudaException | CudaUnavailableException | NvrtcException | NvrtcCompileException
                     | DeviceMemoryShortfallException e) {
                return DeviceMemoryErrors.report(e);
            } catch (UnsupportedShapeException e) {
                System.err.println("octet: the CUDA backend cannot compile " + model.name() + ": " + e.getMessage()
                        + "; train it with --device cpu");
                return ExitCodes.INVALID_INPUT;
            } catch (CheckpointException | SafetensorsFormatException e) {
                System.err.println("error: " + e.getMessage());
                return ExitCodes.INVALID_INPUT;
            } catch (IOException e) {
                // A file of the run (metrics, checkpoints) that cannot be read or written: not a fault of Octet's.
                System.err.println("octet: error: " + e.getMessage());
                return ExitCodes.INVALID_INPUT;
            }
            if (!leader) {
                return ExitCodes.OK;  // rank 0 reports the run
            }
            String checkpoint = result.checkpoint().map(Path::toString).orElse("none");
            if (result.stopped()) {
                System.out.printf(java.util.Locale.ROOT, "octet: stopped after step %d of %d; checkpoint %s; continue with: octet train %s --resume --out %s%n",
                        result.completedSteps(), n, checkpoint, file + (recipe == null ? "" : " --recipe " + recipe)
                                + (tokenizer.equals("gpt2") ? "" : " --tokenizer " + tokenizer)
                                + (onBadRecord.equals("stop") ? "" : " --on-bad-record " + onBadRecord), runDir);
                return ExitCodes.OK;
            }
            System.out.printf(java.util.Locale.ROOT, "octet: loss %.3f -> %.3f (mean of the last steps), held-out %.3f; %.0f tokens/s; metrics in %s; checkpoint %s%s%n",
                    result.first(), result.finalMean(), result.validationLoss().orElseThrow(), result.tokensPerSecond(),
                    runDir.resolve("metrics.jsonl"), checkpoint,
                    result.skippedSteps() == 0 ? "" : "; " + result.skippedSteps() + " steps skipped for non-finite values");
            return ExitCodes.OK;
        }
    }

    private static Path resolveBeside(Path file, String relative) {
        Path p = Path.of(relative);
        if (p.isAbsolute()) {
            return p;
        }
        Path dir = file.getParent();
        return dir == null ? p : dir.resolve(p);
    }

    /** The words after "train" this command was given: what the other ranks of {@code --gpus N} are started with. */
    private List<String> trainArguments() {
        List<String> words = spec.commandLine().getParseResult().originalArgs();
        int at = words.indexOf(spec.name());
        return at >= 0 ? words.subList(at + 1, words.size()) : words;
    }
}

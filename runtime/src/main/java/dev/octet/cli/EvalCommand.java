package dev.octet.cli;

import com.google.gson.GsonBuilder;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.checkpoint.SafetensorsFormatException;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.UnsupportedShapeException;
import dev.octet.cpu.decode.CpuDecodeStep;
import dev.octet.cpu.decode.IncrementalForward;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.jsonl.JsonlRecords;
import dev.octet.data.sft.Conversation;
import dev.octet.data.sft.ConversationRecords;
import dev.octet.data.tokenizer.Tokenizer;
import dev.octet.data.tokenizer.Tokenizers;
import dev.octet.decode.DecodeStep;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.eval.AnswerExample;
import dev.octet.eval.AnswerReport;
import dev.octet.eval.FinalAnswerEval;
import dev.octet.gpu.CudaException;
import dev.octet.gpu.CudaUnavailableException;
import dev.octet.gpu.NvrtcCompileException;
import dev.octet.gpu.NvrtcException;
import dev.octet.gpu.exec.DeviceDecoder;
import dev.octet.numerics.InitialWeights;
import dev.octet.train.CheckpointWeights;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code octet eval FILE --checkpoint RUN_DIR --data test.jsonl --tokenizer tokenizer.json}: greedy decoding with
 * KV caches — on a CUDA device, the compiled decoding step for many conversations at once; on the CPU, the
 * reference forward one conversation at a time — scored by exact match on the final answer ({@code The answer is N.}).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a trained model on held-out conversations: greedy decoding (GPU or CPU, KV caches) of each last",
                "assistant turn, exact match on its final 'The answer is N.'; prints the accuracy and a few examples, writes eval.json."})
final class EvalCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the .octet file the model was trained with")
    Path file;

    @Option(names = "--checkpoint", paramLabel = "RUN_DIR|FILE", description = "a run directory (its latest checkpoint) or a checkpoint file")
    Path checkpoint;

    @Option(names = "--initial", description = "evaluate the training block's initial (seeded, untrained) weights instead of a checkpoint")
    boolean initial;

    @Option(names = "--data", required = true, paramLabel = "TEST.jsonl", description = "conversations whose last assistant message ends 'The answer is N.'")
    Path data;

    @Option(names = "--tokenizer", required = true, paramLabel = "T", description = "the tokenizer the model was trained with: PATH/tokenizer.json, gpt2 or cl100k")
    String tokenizer;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64", description = "tokens generated at most per answer (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--limit", paramLabel = "K", description = "evaluate only the first K conversations")
    Integer limit;

    @Option(names = "--recipe", paramLabel = "R", description = "override the training block's recipe (as octet train --recipe)")
    String recipe;

    @Option(names = "--out", paramLabel = "FILE.json", description = "where the report goes; default eval.json in the run directory (or beside FILE with --initial)")
    Path out;

    @Option(names = "--device", paramLabel = "cpu|cuda|auto", defaultValue = "auto",
            description = "where decoding runs: cuda (the compiled decoding step, many conversations at once), cpu (the reference forward) or auto: cuda when a device is found (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--slots", paramLabel = "S", defaultValue = "" + Lowering.DEFAULT_DECODE_SLOTS, description = "conversations decoded at once on the GPU (default ${DEFAULT-VALUE}); the CPU decodes one at a time")
    int slots;

    @Option(names = "--context", paramLabel = "N", description = "positions each conversation may fill, prompt and answer (default: the model's max_seq, at most "
            + Lowering.DECODE_CONTEXT_CAP + ")")
    Integer context;

    @Option(names = "--show", paramLabel = "K", defaultValue = "5", description = "examples printed (default ${DEFAULT-VALUE})")
    int show;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Inputs.requireFiles(spec, List.of(file, data));
        if (initial == (checkpoint != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give --checkpoint RUN_DIR|FILE, or --initial for the untrained model");
        }
        if (maxNewTokens < 1 || (limit != null && limit < 1) || show < 0 || slots < 1 || (context != null && context < 2)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--max-new-tokens, --limit and --slots must be at least 1, --context at least 2, --show at least 0");
        }
        Optional<DeviceOption.Choice> chosen = DeviceOption.forCommand(spec, device, "decoding");
        if (chosen.isEmpty()) {
            return ExitCodes.INVALID_INPUT;
        }
        DeviceOption.Choice placement = chosen.get();
        Optional<Selection> selected = Selection.load(spec, file, recipe, Selection.Training.REQUIRED,
                "eval reads the model and recipe from the one the model was trained with");
        if (selected.isEmpty()) {
            return ExitCodes.INVALID_INPUT;
        }
        TrainingSpec t = selected.get().training().orElseThrow();
        ModelSpec model = selected.get().model();
        // The GPU takes the weights one tensor at a time (a model the host could not hold whole still decodes);
        // the CPU reference needs them all in a parameter store.
        boolean onDevice = placement instanceof DeviceOption.Choice.Cuda;
        Supplier<ParameterStore> params;
        MasterWeights.Source source;
        String weights;
        Path report;
        try {
            if (initial) {
                params = () -> ParameterStore.initialize(model, t.seed());
                source = sink -> {
                    for (InitialWeights.Initial init : InitialWeights.of(model)) {
                        sink.accept(init.param(), MemorySegment.ofArray(InitialWeights.values(t.seed(), init)));
                    }
                };
                weights = "initial weights (seed " + t.seed() + ")";
                report = out != null ? out : Path.of("eval.json");
            } else {
                Path file = CheckpointWeights.resolve(checkpoint);
                if (onDevice) {
                    CheckpointWeights.Streamed w = CheckpointWeights.stream(file, model);
                    source = w.weights();
                    params = null;
                    weights = file + " (step " + w.metadata().step() + ")";
                } else {
                    CheckpointWeights.Loaded w = CheckpointWeights.load(file, model);
                    params = w::params;
                    source = null;
                    weights = file + " (step " + w.metadata().step() + ")";
                }
                report = out != null ? out : runDirectory(checkpoint).resolve("eval.json");
            }
        } catch (CheckpointException | SafetensorsFormatException e) {
            System.err.println("error: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
        RecipeSpec r = selected.get().recipe();
        int positions = context != null ? context : Math.min(model.config().maxSeq(), Lowering.DECODE_CONTEXT_CAP);
        if (positions > model.config().maxSeq()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--context " + positions + " exceeds the max_seq of "
                    + model.name() + " (" + model.config().maxSeq() + ")");
        }
        DecodeStep decoder;
        try {
            decoder = onDevice ? DeviceDecoder.open(model, r, slots, positions, source) : cpuDecoder(model, r, params.get(), positions);
        } catch (CheckpointException | SafetensorsFormatException e) {
            System.err.println("error: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        } catch (UnsupportedShapeException e) {
            System.err.println("error: the GPU cannot decode " + model.name() + ": " + e.getMessage() + "; use --device cpu");
            return ExitCodes.INVALID_INPUT;
        } catch (CudaException | CudaUnavailableException | NvrtcException | NvrtcCompileException e) {
            return DeviceMemoryErrors.report(e);
        }
        try (decoder; Tokenizer tok = Tokenizers.open(tokenizer)) {
            if (tok.vocabularySize() > model.config().vocab()) {
                System.err.printf(Locale.ROOT, "error: the tokenizer %s has %,d ids but model '%s' has vocab = %d%n", tok.name(),
                        tok.vocabularySize(), model.name(), model.config().vocab());
                return ExitCodes.INVALID_INPUT;
            }
            JsonlRecords.Result<Conversation> read = ConversationRecords.read(data, dev.octet.data.jsonl.BadRecordPolicy.STOP);
            List<Conversation> conversations = limit == null ? read.values() : read.values().subList(0, Math.min(limit, read.values().size()));
            System.out.printf(Locale.ROOT, "octet: evaluating %s (recipe %s, %s) on %,d conversations of %s, greedy, %s%n",
                    model.name(), r.name(), weights, conversations.size(), data, decoder.describe());
            int[] shown = {0};
            AnswerReport result;
            try {
                result = FinalAnswerEval.run(decoder, tok, conversations, maxNewTokens, example -> {
                    if (shown[0]++ < show) {
                        print(example);
                    }
                });
            } catch (IllegalArgumentException e) {
                System.err.println(data + ": error: " + e.getMessage());
                return ExitCodes.INVALID_INPUT;
            }
            System.out.printf(Locale.ROOT, "octet: exact match %d / %d = %.1f%%; %,d tokens generated in %.1f s (%.0f tokens/s); report in %s%n",
                    result.correct(), result.conversations(), 100 * result.accuracy(), result.generatedTokens(), result.seconds(),
                    result.tokensPerSecond(), report);
            write(report, result, model, r, weights, decoder.describe());
            return ExitCodes.OK;
        }
    }

    /** The CPU reference forward (one slot: the CPU gains nothing from more). */
    private static DecodeStep cpuDecoder(ModelSpec model, RecipeSpec r, ParameterStore params, int positions) {
        params.refreshWorking(Rounding.GPU);
        RecipeLinearPolicy policy = new RecipeLinearPolicy(r, model.config().layers());
        return new CpuDecodeStep(1, positions, model.config().vocab(),
                () -> new IncrementalForward(model, params, policy, Rounding.GPU));
    }

    private static void print(AnswerExample e) {
        System.out.printf(Locale.ROOT, "  %s Q: %s%n    reference: %s%n    generated: %s%s%n", e.correct() ? "[right]" : "[wrong]",
                e.question(), e.reference(), e.generated(), e.stopped() ? "" : " (no <|im_end|>)");
    }

    /** The run directory of a checkpoint: itself, or the directory above {@code checkpoints/}. */
    private static Path runDirectory(Path checkpoint) {
        if (Files.isDirectory(checkpoint)) {
            return checkpoint;
        }
        Path dir = checkpoint.toAbsolutePath().getParent();
        return dir.getFileName().toString().equals(dev.octet.checkpoint.CheckpointDirectory.NAME) ? dir.getParent() : dir;
    }

    private void write(Path report, AnswerReport result, ModelSpec model, RecipeSpec r, String weights, String decoder)
            throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model.name());
        json.put("recipe", r.name());
        json.put("weights", weights);
        json.put("data", data.toString());
        json.put("tokenizer", tokenizer);
        json.put("max_new_tokens", maxNewTokens);
        json.put("decoder", decoder);
        json.put("conversations", result.conversations());
        json.put("correct", result.correct());
        json.put("exact_match", result.accuracy());
        json.put("generated_tokens", result.generatedTokens());
        json.put("seconds", result.seconds());
        json.put("examples", result.examples());
        Path parent = report.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(report, new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(json) + "\n");
    }
}

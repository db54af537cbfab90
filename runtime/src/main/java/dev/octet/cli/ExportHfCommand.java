package dev.octet.cli;

import dev.octet.checkpoint.DType;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.hf.HfExporter;
import dev.octet.hf.OctetModelFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code octet export hf SOURCE --out DIR}: an Octet model's weights as a directory transformers loads. */
@Command(name = "hf", mixinStandardHelpOptions = true,
        description = "Export to a Hugging Face directory (config.json, generation_config.json, model.safetensors): "
                + "Qwen2ForCausalLM when q, k, v carry biases, else LlamaForCausalLM.")
final class ExportHfCommand implements Callable<Integer> {
    @Parameters(paramLabel = "SOURCE",
            description = "a run directory (its latest checkpoint), an imported model directory (weights.safetensors), or a .safetensors file")
    Path source;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the directory to write")
    Path out;

    @Option(names = "--model", paramLabel = "FILE",
            description = "the .octet file of the model; default: model.octet in SOURCE (or beside it, or in its run directory)")
    Path model;

    @Option(names = "--dtype", paramLabel = "bf16|f32", defaultValue = "bf16",
            description = "weight type of model.safetensors (default ${DEFAULT-VALUE}; f32 is exact)")
    String dtype;

    @Option(names = "--force", description = "replace the model DIR already holds: its weights files, index and config.json "
            + "go as one set (keys Octet does not write are kept), every other file stays")
    boolean force;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.exists(source)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no such file or directory: " + source);
        }
        DType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "bf16" -> DType.BF16;
            case "f32" -> DType.F32;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--dtype is bf16 or f32, not " + dtype);
        };
        Optional<Path> modelFile = model != null ? Optional.of(model) : HfExporter.modelFileOf(source);
        if (modelFile.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no model.octet in or beside " + source
                    + "; name the model with --model FILE.octet");
        }
        try {
            Path weights = HfExporter.weightsOf(source);
            Optional<Path> input = OutputPaths.insideOrSame(out, List.of(source, weights, modelFile.get()));
            if (input.isPresent()) {
                System.err.println(out + ": error: holds " + input.get() + ", which this export reads; choose another --out");
                return ExitCodes.USAGE;
            }
            List<Path> existing = HfExporter.modelFilesIn(out);
            if (!existing.isEmpty() && !force) {
                System.err.println(out + ": error: already holds a model (" + existing.getFirst().getFileName()
                        + (existing.size() > 1 ? " and " + (existing.size() - 1) + " more" : "")
                        + "); choose another --out, or --force to replace its weights and config");
                return ExitCodes.USAGE;
            }
            ModelSpec m = OctetModelFiles.load(modelFile.get());
            HfExporter.Result r = HfExporter.run(m, modelFile.get(), weights, out, type, force);
            System.out.printf(Locale.ROOT, "octet: exported %s (%s, %s) from %s into %s%n", m.name(),
                    r.architecture().className(), type, weights, out);
            return ExitCodes.OK;
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
    }
}

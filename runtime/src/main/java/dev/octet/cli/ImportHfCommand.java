package dev.octet.cli;

import dev.octet.dsl.spec.ParameterTable;
import dev.octet.hf.HfImporter;
import dev.octet.hf.StandardModelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code octet import hf DIR --out MODEL_DIR}: a Hugging Face Qwen2 or Llama checkpoint as an Octet model. */
@Command(name = "hf", mixinStandardHelpOptions = true,
        description = "Import a Hugging Face Qwen2 or Llama checkpoint directory (config.json, *.safetensors) as "
                + "MODEL_DIR/model.octet and MODEL_DIR/weights.safetensors (FP32 masters, Octet names).")
final class ImportHfCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "the Hugging Face model directory")
    Path dir;

    @Option(names = "--out", required = true, paramLabel = "MODEL_DIR", description = "where model.octet and weights.safetensors go")
    Path out;

    @Option(names = "--name", paramLabel = "NAME", description = "the model's name in model.octet; default: from DIR's name")
    String name;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no such directory: " + dir);
        }
        String modelName = name != null ? name : StandardModelSource.nameFrom(dir.toAbsolutePath().normalize().getFileName().toString());
        if (!modelName.matches("[A-Za-z_][A-Za-z_0-9]*")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--name " + modelName + " is not a name (letters, digits, _)");
        }
        if (OutputPaths.same(out, dir)) {
            System.err.println(out + ": error: is the Hugging Face directory being imported; choose another --out");
            return ExitCodes.USAGE;
        }
        if (Files.exists(out.resolve(HfImporter.WEIGHTS_FILE)) || Files.exists(out.resolve(HfImporter.MODEL_FILE))) {
            System.err.println(out + ": error: already holds a model (" + HfImporter.MODEL_FILE + " or " + HfImporter.WEIGHTS_FILE
                    + "); choose another --out");
            return ExitCodes.USAGE;
        }
        try {
            HfImporter.Result r = HfImporter.run(dir, out, modelName);
            System.out.printf(Locale.ROOT, "octet: imported %s %s (%,d parameters) into %s and %s%n",
                    r.architecture().className(), r.model().name(), ParameterTable.of(r.model()).parameterCount(),
                    r.modelFile(), r.weightsFile());
            return ExitCodes.OK;
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
    }
}

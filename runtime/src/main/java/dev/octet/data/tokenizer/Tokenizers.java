package dev.octet.data.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a tokenizer by what a command line names: {@code gpt2}, {@code cl100k}, or a path to a tokenizer.json. */
public final class Tokenizers {
    private Tokenizers() {}

    public static final String NAMES = "gpt2, cl100k, or PATH/tokenizer.json";

    public static Tokenizer open(String spec) throws IOException {
        return switch (spec) {
            case "gpt2" -> JTokkitTokenizer.of(JTokkitTokenizer.Base.GPT2);
            case "cl100k" -> JTokkitTokenizer.of(JTokkitTokenizer.Base.CL100K);
            default -> {
                Path file = Path.of(spec);
                if (Files.isDirectory(file)) {
                    file = file.resolve("tokenizer.json");
                }
                if (!Files.isRegularFile(file)) {
                    throw new IOException("unknown tokenizer '" + spec + "': expected " + NAMES);
                }
                yield HuggingFaceJsonTokenizer.load(file);
            }
        };
    }
}

package dev.octet.hf;

import java.io.IOException;
import java.nio.file.Path;

/** A Hugging Face checkpoint or an Octet model that cannot be converted; one line, naming the file and the fault. */
public final class InteropException extends IOException {
    private static final long serialVersionUID = 1L;

    public InteropException(Path file, String problem) {
        super(file + ": " + problem);
    }
}

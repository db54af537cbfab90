package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a well-formed safetensors file; the message names the file and what is wrong, on one line. */
public final class SafetensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SafetensorsFormatException(Path file, String problem) {
        super(file + ": not a valid safetensors file: " + problem);
    }
}

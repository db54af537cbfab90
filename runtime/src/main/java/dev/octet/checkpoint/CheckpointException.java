package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint that cannot be used: missing, or written for something else; one line, naming the file. */
public final class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
    }
}

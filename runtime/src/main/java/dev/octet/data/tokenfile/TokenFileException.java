package dev.octet.data.tokenfile;

import java.io.IOException;
import java.nio.file.Path;

/** A token file that cannot be used: its message is one line naming the file and what is wrong. */
public final class TokenFileException extends IOException {
    public TokenFileException(Path file, String what) {
        super(file + ": " + what);
    }
}

package dev.octet.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A file-system failure that reached the command line (an --out that is a file where a directory is needed, a
 * full disk, a permission): the user's environment, not a bug in Octet, so it is one line naming the file,
 * with exit code 1, rather than an internal error.
 */
final class FileErrors {
    private FileErrors() {}

    /** The I/O failure behind {@code e}, if that is what it is. */
    static Optional<IOException> ioCause(Throwable e) {
        if (e instanceof IOException io) {
            return Optional.of(io);
        }
        if (e instanceof UncheckedIOException unchecked) {
            return Optional.of(unchecked.getCause());
        }
        return Optional.empty();
    }

    /** One line: the file and what is wrong with it. */
    static String describe(IOException e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            String reason = f.getReason() != null ? f.getReason() : switch (f) {
                case FileAlreadyExistsException x -> Files.exists(Path.of(f.getFile())) && !Files.isDirectory(Path.of(f.getFile()))
                        ? "exists and is not a directory" : "already exists";
                case NoSuchFileException x -> "no such file or directory";
                case AccessDeniedException x -> "permission denied";
                case NotDirectoryException x -> "not a directory";
                case DirectoryNotEmptyException x -> "directory not empty";
                default -> f.getClass().getSimpleName();
            };
            return f.getFile() + (f.getOtherFile() != null ? " (to " + f.getOtherFile() + ")" : "") + ": " + reason;
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}

package dev.octet.testing;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Octet's {@code examples/} folder, found from the working directory upwards: Maven runs a module's tests in the
 * module's folder, the GPU machine's test launcher in the repository root.
 */
public final class ExampleFiles {
    private ExampleFiles() {
    }

    public static Path dir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("examples").resolve("tiny.octet"))) {
                return dir.resolve("examples");
            }
        }
        throw new UncheckedIOException(new NoSuchFileException("examples/tiny.octet (searched from "
                + Path.of("").toAbsolutePath() + " upwards)"));
    }
}

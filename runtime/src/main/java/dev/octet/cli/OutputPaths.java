package dev.octet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;

/** Where a command writes, checked before anything is written: an output never replaces one of the command's inputs. */
final class OutputPaths {
    private OutputPaths() {}

    /** The input that writing {@code out} would replace: the same file (through any link or spelling), if any. */
    static Optional<Path> sameAsAnInput(Path out, Collection<Path> inputs) {
        return inputs.stream().filter(input -> same(out, input)).findFirst();
    }

    /** The input that lies inside the directory {@code outDir} or is it, so that writing there would touch it. */
    static Optional<Path> insideOrSame(Path outDir, Collection<Path> inputs) {
        Path dir = canonical(outDir);
        return inputs.stream().filter(input -> canonical(input).startsWith(dir) || same(outDir, input)).findFirst();
    }

    static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (IOException e) {
            // fall through to comparing the names
        }
        return canonical(a).equals(canonical(b));
    }

    /** The real path where it exists (links resolved), else the absolute, normalized name. */
    private static Path canonical(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}

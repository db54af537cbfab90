package dev.octet.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Replaces a directory's contents as one step, so that a reader (or a crash) sees either the old set of files
 * or the complete new one, never a mix. The new contents are built in a hidden sibling directory: the old
 * entries that are kept are hard-linked into it (nothing is copied, and a kept file is never written, since
 * every new file is written beside it and renamed), the new files are written and forced to disk, and the two
 * directories are exchanged in one atomic rename (Linux {@code renameat2(RENAME_EXCHANGE)}). Where the exchange
 * is not available, the old directory is renamed aside and the new one into place: two renames, between which
 * a crash leaves both versions beside the missing name, as hidden {@code .NAME.*.tmp} directories.
 */
public final class AtomicDirectory {

    /** Writes the new files into the staging directory, which already holds the kept entries. */
    @FunctionalInterface
    public interface Content {
        void writeInto(Path staging) throws IOException;
    }

    private static final int AT_FDCWD = -100;
    private static final int RENAME_EXCHANGE = 2;
    private static final Optional<MethodHandle> RENAMEAT2 = renameat2();
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private AtomicDirectory() {}

    /** Replaces {@code dir} (created when absent) by the entries of it that {@code keep} accepts plus what {@code content} writes. */
    public static void replace(Path dir, Predicate<Path> keep, Content content) throws IOException {
        // The real directory, so that a link to it stays a link to the new contents.
        Path target = Files.exists(dir) ? dir.toRealPath() : dir.toAbsolutePath().normalize();
        Path workingDirectory = Path.of("").toAbsolutePath().toRealPath();
        if (Files.exists(target) && workingDirectory.startsWith(target)) {
            // Exchanged, the directory a shell stands in would be the old one, deleted under it.
            throw new IOException(dir + ": is the working directory or holds it; run from outside it to replace its contents");
        }
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path staging = parent.resolve("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + AtomicFile.TEMP_SUFFIX);
        Files.createDirectory(staging);
        boolean exchanged = false;
        try {
            if (Files.isDirectory(target)) {
                for (Path entry : list(target)) {
                    if (keep.test(entry)) {
                        linkTree(entry, staging.resolve(entry.getFileName().toString()));
                    }
                }
            }
            content.writeInto(staging);
            AtomicFile.forceDirectory(staging);
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                exchanged = true;
            } else {
                exchange(staging, target);
                exchanged = true;
                deleteTree(staging); // now the old contents
            }
            AtomicFile.forceDirectory(parent);
        } catch (IOException | RuntimeException | Error e) {
            if (!exchanged) {
                deleteTree(staging);
            }
            throw e;
        }
    }

    private static void exchange(Path staging, Path target) throws IOException {
        if (RENAMEAT2.isPresent()) {
            try (Arena arena = Arena.ofConfined()) {
                int rc = (int) RENAMEAT2.get().invokeExact(AT_FDCWD, arena.allocateFrom(staging.toString()), AT_FDCWD,
                        arena.allocateFrom(target.toString()), RENAME_EXCHANGE);
                if (rc == 0) {
                    return;
                }
            } catch (Throwable e) {
                if (e instanceof Error error) {
                    throw error;
                }
                // fall back to two renames below
            }
        }
        Path aside = target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + AtomicFile.TEMP_SUFFIX);
        Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        Files.move(aside, staging, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Optional<MethodHandle> renameat2() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("renameat2").map(address -> linker.downcallHandle(address,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_INT)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.sorted().toList();
        }
    }

    /** A hard link of every file under {@code from} at the same place under {@code to}; a copy where links are refused. */
    private static void linkTree(Path from, Path to) throws IOException {
        if (Files.isSymbolicLink(from)) {
            Files.createSymbolicLink(to, Files.readSymbolicLink(from));
        } else if (Files.isDirectory(from)) {
            Files.createDirectory(to);
            for (Path entry : list(from)) {
                linkTree(entry, to.resolve(entry.getFileName().toString()));
            }
        } else {
            try {
                Files.createLink(to, from);
            } catch (UnsupportedOperationException | IOException e) {
                Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    /** Deletes {@code root} and everything under it; nothing when it does not exist. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}

package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a file so that a crash at any moment leaves either the old file or the complete new one:
 * the content goes to a temporary file in the same directory, is forced to disk, renamed over the
 * target in one atomic step, and the directory is forced so that the rename itself survives a power cut.
 */
public final class AtomicFile {
    /** Temporary files start with a dot and end with this, so no reader ever takes one for a finished file. */
    public static final String TEMP_SUFFIX = ".tmp";

    /** What writes the content; the channel is positioned at 0 of an empty file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Checks the written content before it replaces the target; throwing keeps the old file. */
    @FunctionalInterface
    public interface Check {
        void check(Path written) throws IOException;
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private AtomicFile() {}

    public static void write(Path target, Content content) throws IOException {
        write(target, content, written -> {});
    }

    /** As {@link #write(Path, Content)}, running {@code check} on the complete, forced file before the rename. */
    public static void write(Path target, Content content, Check check) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        // Not Files.createTempFile: its owner-only permissions would carry over to the finished file.
        Path temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + TEMP_SUFFIX);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                content.writeTo(channel);
                channel.force(true);
            }
            check.check(temp);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        forceDirectory(dir);
    }

    /** Makes a rename or a deletion in {@code dir} durable. */
    public static void forceDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some platforms (Windows) cannot open a directory; there a rename is as durable as the OS makes it.
            if (Files.isDirectory(dir) && System.getProperty("os.name", "").startsWith("Windows")) {
                return;
            }
            throw e;
        }
    }

    /** Whether a name is one of this class's temporary files, which a crash can leave behind. */
    public static boolean isTemporary(Path file) {
        String name = file.getFileName().toString();
        return name.startsWith(".") && name.endsWith(TEMP_SUFFIX);
    }
}

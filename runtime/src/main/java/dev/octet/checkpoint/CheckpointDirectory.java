package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A run's checkpoints: {@code RUN_DIR/checkpoints/step-00000042.safetensors}, one file per saved step,
 * each written atomically. The latest is found by scanning the names, never through a pointer file that
 * could name a file that is gone; temporary files of an interrupted write never match the pattern.
 * After each save only the newest {@code keep} are kept.
 */
public final class CheckpointDirectory {
    public static final String NAME = "checkpoints";
    public static final int DEFAULT_KEEP = 2;

    private static final Pattern FILE = Pattern.compile("step-(\\d{8,})\\.safetensors");

    /** A checkpoint file and the number of optimizer steps it holds. */
    public record Entry(long step, Path file) {}

    private final Path dir;
    private final int keep;

    private CheckpointDirectory(Path dir, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep at least one checkpoint, not " + keep);
        }
        this.dir = dir;
        this.keep = keep;
    }

    public static CheckpointDirectory of(Path runDir, int keep) {
        return new CheckpointDirectory(runDir.resolve(NAME), keep);
    }

    public Path dir() {
        return dir;
    }

    public Path fileFor(long step) {
        return dir.resolve(String.format(java.util.Locale.ROOT, "step-%08d.safetensors", step));
    }

    /** Finished checkpoints, oldest first; none when the directory does not exist. */
    public List<Entry> entries() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Entry> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Matcher m = FILE.matcher(f.getFileName().toString());
                if (m.matches() && Files.isRegularFile(f)) {
                    found.add(new Entry(Long.parseLong(m.group(1)), f));
                }
            }
        }
        found.sort(Comparator.comparingLong(Entry::step));
        return List.copyOf(found);
    }

    public Optional<Entry> latest() throws IOException {
        List<Entry> all = entries();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /** Writes the checkpoint of {@code step} atomically, then drops all but the newest {@code keep}. */
    public Path save(long step, AtomicFile.Content content) throws IOException {
        return save(step, content, written -> {});
    }

    /**
     * As above, with the written file checked ({@code check}: readable, shapes, finite values) before it takes
     * its name and before any older checkpoint is dropped: a checkpoint that fails is not saved, and the newest
     * good one stays.
     */
    public Path save(long step, AtomicFile.Content content, AtomicFile.Check check) throws IOException {
        Files.createDirectories(dir);
        Path file = fileFor(step);
        AtomicFile.write(file, content, written -> {
                try {
                    check.check(written);
                } catch (IOException e) {
                    String why = e.getMessage() == null ? e.toString() : e.getMessage().replace(written + ": ", "");
                    throw new CheckpointException(file, "not saved: " + why + "; the newest good checkpoint ("
                            + latest().map(entry -> entry.file().getFileName().toString()).orElse("none yet") + ") is kept");
                }
            });
        prune();
        return file;
    }

    private void prune() throws IOException {
        List<Entry> all = entries();
        boolean removed = false;
        for (Entry old : all.subList(0, Math.max(0, all.size() - keep))) {
            removed |= Files.deleteIfExists(old.file());
        }
        // A write that a kill interrupted leaves its temporary file; no reader looks at it, so it only wastes space.
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (AtomicFile.isTemporary(f) && f.getFileName().toString().startsWith(".step-")) {
                    removed |= Files.deleteIfExists(f);
                }
            }
        }
        if (removed) {
            AtomicFile.forceDirectory(dir);
        }
    }
}

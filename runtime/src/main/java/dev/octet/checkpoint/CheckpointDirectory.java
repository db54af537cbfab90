package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A run's checkpoints: {@code RUN_DIR/checkpoints/step-00000042.safetensors}, one file per saved step, or for a
 * data-parallel run {@code step-00000042/}, a directory of every rank's shard ({@link CheckpointShards}); each
 * written atomically (a directory is filled under a temporary name and renamed when every shard is in). The
 * latest is found by scanning the names, never through a pointer file that could name a file that is gone;
 * temporary files and directories of an interrupted write never match the pattern. After each save only the
 * newest {@code keep} are kept.
 */
public final class CheckpointDirectory {
    public static final String NAME = "checkpoints";
    public static final int DEFAULT_KEEP = 2;

    private static final Pattern FILE = Pattern.compile("step-(\\d{8,})\\.safetensors");
    private static final Pattern SHARDS = Pattern.compile("step-(\\d{8,})");

    /** A checkpoint (a file, or a directory of shards) and the number of optimizer steps it holds. */
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

    /** Where the shards of the checkpoint of {@code step} go. */
    public Path shardsFor(long step) {
        return dir.resolve(String.format(java.util.Locale.ROOT, "step-%08d", step));
    }

    /** Finished checkpoints, oldest first; none when the directory does not exist. */
    public List<Entry> entries() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Entry> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Matcher file = FILE.matcher(f.getFileName().toString());
                Matcher shards = SHARDS.matcher(f.getFileName().toString());
                if (file.matches() && Files.isRegularFile(f)) {
                    found.add(new Entry(Long.parseLong(file.group(1)), f));
                } else if (shards.matches() && Files.isDirectory(f)) {
                    found.add(new Entry(Long.parseLong(shards.group(1)), f));
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

    /**
     * Rank {@code rank}'s part of the checkpoint of {@code step} in a run of {@code worldSize} ranks, every rank
     * calling it at the same step: rank 0 empties the staging directory, every rank writes its shard there
     * ({@code content}), and when all are in ({@code barrier}: a collective every rank joins) rank 0 checks them
     * together ({@code check}, on the staging directory) and renames the directory into place, then drops all but
     * the newest {@code keep}. A kill at any moment leaves the checkpoints before it whole.
     */
    public Path saveShards(long step, int rank, int worldSize, AtomicFile.Content content, Runnable barrier,
                           AtomicFile.Check check) throws IOException {
        Path staging = dir.resolve(String.format(java.util.Locale.ROOT, ".step-%08d.shards", step) + AtomicFile.TEMP_SUFFIX);
        Path target = shardsFor(step);
        if (rank == 0) {
            Files.createDirectories(dir);
            AtomicDirectory.deleteTree(staging);  // a write of this step that a kill interrupted
            Files.createDirectories(staging);
        }
        barrier.run();
        AtomicFile.write(staging.resolve(CheckpointShards.fileName(rank, worldSize)), content);
        barrier.run();
        if (rank != 0) {
            return target;
        }
        try {
            check.check(staging);
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().replace(staging + ": ", "");
            AtomicDirectory.deleteTree(staging);
            throw new CheckpointException(target, "not saved: " + why + "; the newest good checkpoint ("
                    + latest().map(entry -> entry.file().getFileName().toString()).orElse("none yet") + ") is kept");
        }
        // The same step saved again (a run resumed before it): the old copy goes only once the new one is whole.
        Path replaced = dir.resolve("." + target.getFileName() + ".replaced" + AtomicFile.TEMP_SUFFIX);
        if (Files.exists(target)) {
            AtomicDirectory.deleteTree(replaced);
            Files.move(target, replaced, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.forceDirectory(dir);
        AtomicDirectory.deleteTree(replaced);
        prune();
        return target;
    }

    private void prune() throws IOException {
        List<Entry> all = entries();
        boolean removed = false;
        for (Entry old : all.subList(0, Math.max(0, all.size() - keep))) {
            if (Files.isDirectory(old.file())) {
                // Renamed away first: a kill while its shards are deleted must not leave a partial set under its name.
                Path going = dir.resolve("." + old.file().getFileName() + ".pruned" + AtomicFile.TEMP_SUFFIX);
                AtomicDirectory.deleteTree(going);
                Files.move(old.file(), going, StandardCopyOption.ATOMIC_MOVE);
                AtomicDirectory.deleteTree(going);
                removed = true;
            } else {
                removed |= Files.deleteIfExists(old.file());
            }
        }
        // A write that a kill interrupted leaves its temporary file or directory; no reader looks at it, so it only
        // wastes space.
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (AtomicFile.isTemporary(f) && f.getFileName().toString().startsWith(".step-")) {
                    removed = true;
                    AtomicDirectory.deleteTree(f);
                }
            }
        }
        if (removed) {
            AtomicFile.forceDirectory(dir);
        }
    }
}

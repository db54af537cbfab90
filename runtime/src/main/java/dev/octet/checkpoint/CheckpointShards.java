package dev.octet.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A checkpoint the N ranks of a data-parallel run wrote together: a directory of {@code shard-R-of-N.safetensors},
 * rank R's file holding the parameters it owns (their master weights and moments) and the same metadata as every
 * other. Read as one checkpoint: each tensor from the one shard that holds it. A shard missing, a tensor in two
 * shards, or shards of different runs are refused in one line naming the directory.
 */
public final class CheckpointShards implements TensorReader {
    private static final Pattern SHARD = Pattern.compile("shard-(\\d+)-of-(\\d+)\\.safetensors");

    private final Path dir;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> holder;
    private final List<String> names;

    private CheckpointShards(Path dir, List<SafetensorsFile> shards, Map<String, SafetensorsFile> holder, List<String> names) {
        this.dir = dir;
        this.shards = shards;
        this.holder = holder;
        this.names = names;
    }

    /** The name of rank {@code rank}'s file among {@code worldSize}. */
    public static String fileName(int rank, int worldSize) {
        return String.format(Locale.ROOT, "shard-%d-of-%d.safetensors", rank, worldSize);
    }

    /** Whether {@code path} is a directory holding shards (complete or not). */
    public static boolean isShardDirectory(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            return false;
        }
        try (Stream<Path> files = Files.list(path)) {
            return files.anyMatch(f -> SHARD.matcher(f.getFileName().toString()).matches());
        }
    }

    static CheckpointShards open(Path dir) throws IOException {
        TreeMap<Integer, Path> byRank = new TreeMap<>();
        int worldSize = -1;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Matcher m = SHARD.matcher(f.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                int rank = Integer.parseInt(m.group(1)), of = Integer.parseInt(m.group(2));
                if (worldSize != -1 && of != worldSize) {
                    throw new CheckpointException(dir, "holds shards of " + worldSize + " and of " + of + " ranks");
                }
                worldSize = of;
                byRank.put(rank, f);
            }
        }
        if (worldSize < 1) {
            throw new CheckpointException(dir, "is a directory without checkpoint shards (shard-R-of-N.safetensors)");
        }
        for (int r = 0; r < worldSize; r++) {
            if (!byRank.containsKey(r)) {
                throw new CheckpointException(dir, "lacks " + fileName(r, worldSize) + ": a checkpoint of " + worldSize
                        + " ranks needs every rank's shard");
            }
        }
        if (byRank.lastKey() >= worldSize) {
            throw new CheckpointException(dir, "holds " + byRank.get(byRank.lastKey()).getFileName() + ", a rank outside 0.."
                    + (worldSize - 1));
        }
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> holder = new HashMap<>();
            List<String> names = new ArrayList<>();
            for (Path file : byRank.values()) {
                SafetensorsFile shard = SafetensorsFile.open(file);
                shards.add(shard);
                if (!shard.metadata().equals(shards.getFirst().metadata())) {
                    throw new CheckpointException(dir, file.getFileName() + " was written by another run or step than "
                            + shards.getFirst().path().getFileName() + " (their metadata differ)");
                }
                for (String name : shard.names()) {
                    SafetensorsFile before = holder.putIfAbsent(name, shard);
                    if (before != null) {
                        throw new CheckpointException(dir, "tensor " + name + " is in both " + before.path().getFileName()
                                + " and " + file.getFileName());
                    }
                    names.add(name);
                }
            }
            return new CheckpointShards(dir, List.copyOf(shards), holder, List.copyOf(names));
        } catch (IOException | RuntimeException e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    @Override
    public Path path() {
        return dir;
    }

    /** The metadata every shard holds. */
    @Override
    public Map<String, String> metadata() {
        return new LinkedHashMap<>(shards.getFirst().metadata());
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public Optional<TensorInfo> find(String name) {
        SafetensorsFile shard = holder.get(name);
        return shard == null ? Optional.empty() : shard.find(name);
    }

    @Override
    public MemorySegment segment(String name) throws SafetensorsFormatException {
        SafetensorsFile shard = holder.get(name);
        if (shard == null) {
            throw new SafetensorsFormatException(dir, "no tensor named " + name + " in any shard");
        }
        return shard.segment(name);
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}

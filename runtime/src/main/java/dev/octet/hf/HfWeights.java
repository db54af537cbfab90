package dev.octet.hf;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.TensorInfo;
import dev.octet.numerics.Bf16;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The tensors of a Hugging Face checkpoint directory: one {@code *.safetensors} file, or shards listed by
 * {@code model.safetensors.index.json}. Without an index every {@code *.safetensors} is read, and a tensor
 * name in two of them is refused: which one is meant cannot be known, and taking either would mix two models. BF16, F16 and F32 tensors are read as FP32 (each exactly: FP32 holds
 * every BF16 and F16 value).
 */
public final class HfWeights implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final Map<Path, SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;

    private HfWeights(Path dir, Map<Path, SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.dir = dir;
        this.files = files;
        this.byName = byName;
    }

    public static HfWeights open(Path dir) throws IOException {
        Map<Path, SafetensorsFile> files = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byName = new HashMap<>();
        HfWeights weights = new HfWeights(dir, files, byName);
        try {
            Path index = dir.resolve(INDEX);
            if (Files.isRegularFile(index)) {
                for (Map.Entry<String, Path> e : weightMap(index).entrySet()) {
                    Path shard = e.getValue();
                    if (!Files.isRegularFile(shard)) {
                        throw new InteropException(index, "names shard " + dir.relativize(shard) + " for "
                                + e.getKey() + ", and that file does not exist");
                    }
                    SafetensorsFile f = files.get(shard);
                    if (f == null) {
                        f = SafetensorsFile.open(shard);
                        files.put(shard, f);
                    }
                    byName.put(e.getKey(), f);
                }
            } else {
                List<Path> found;
                try (Stream<Path> list = Files.list(dir)) {
                    found = list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
                }
                if (found.isEmpty()) {
                    throw new InteropException(dir, "holds no *.safetensors file (and no " + INDEX + ")");
                }
                for (Path p : found) {
                    SafetensorsFile f = SafetensorsFile.open(p);
                    files.put(p, f);
                    for (String name : f.names()) {
                        SafetensorsFile earlier = byName.putIfAbsent(name, f);
                        if (earlier != null) {
                            throw new InteropException(dir, "tensor " + name + " is in both " + earlier.path().getFileName() + " and "
                                    + p.getFileName() + ", and no " + INDEX + " says which to read; remove one of them");
                        }
                    }
                }
            }
            return weights;
        } catch (IOException | RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** The tensor as FP32 values, after checking its type and that its shape is {@code shape}. */
    public float[] read(String name, List<Long> shape) throws IOException {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new InteropException(dir, "has no tensor " + name + " (shape " + shape + " expected)");
        }
        TensorInfo info = f.info(name);
        if (!info.shape().equals(shape)) {
            throw new InteropException(f.path(), "tensor " + name + " has shape " + info.shape() + ", expected " + shape
                    + " from config.json");
        }
        return switch (info.dtype()) {
            case F32 -> f.floats(name);
            case BF16 -> widen(f.shorts(name), true);
            case F16 -> widen(f.shorts(name), false);
            default -> throw new InteropException(f.path(), "tensor " + name + " is " + info.dtype()
                    + "; expected BF16, F16 or F32");
        };
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files.values()) {
            f.close();
        }
    }

    private static float[] widen(short[] bits, boolean bf16) {
        float[] out = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            out[i] = bf16 ? Bf16.decode(bits[i]) : Float.float16ToFloat(bits[i]);
        }
        return out;
    }

    private static Map<String, Path> weightMap(Path index) throws IOException {
        JsonElement map;
        try {
            JsonObject root = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8)).getAsJsonObject();
            map = root.get("weight_map");
        } catch (JsonParseException | IllegalStateException e) {
            throw new InteropException(index, "is not a JSON object");
        }
        if (map == null || !map.isJsonObject()) {
            throw new InteropException(index, "has no weight_map object");
        }
        Map<String, Path> out = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : map.getAsJsonObject().entrySet()) {
            if (!e.getValue().isJsonPrimitive() || e.getValue().getAsString().contains("/")) {
                bad.add(e.getKey());
                continue;
            }
            out.put(e.getKey(), index.resolveSibling(e.getValue().getAsString()));
        }
        if (!bad.isEmpty()) {
            throw new InteropException(index, "weight_map entry of " + bad.getFirst() + " is not a file name in this directory");
        }
        return out;
    }
}

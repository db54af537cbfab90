package dev.octet.checkpoint;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safetensors file opened for reading, its data memory-mapped.
 *
 * <p>Everything the header claims is checked against the file's size before anything is mapped or
 * allocated beyond the header itself: the header length, every dtype and shape, and every tensor's
 * byte range, which together must tile the data exactly (no gaps, no overlaps), as the reference
 * implementation requires. A damaged file therefore fails with a one-line
 * {@link SafetensorsFormatException}, never with an out-of-memory error or a read past the end.
 */
public final class SafetensorsFile implements TensorReader {
    /** The reference implementation's bound on the header, against absurd lengths in damaged files. */
    static final long MAX_HEADER_BYTES = 100_000_000;

    private final Path path;
    private final Map<String, String> metadata;
    private final Map<String, TensorInfo> tensors;
    private final Arena arena;
    private final MemorySegment data;

    private SafetensorsFile(Path path, Map<String, String> metadata, Map<String, TensorInfo> tensors, Arena arena,
                            MemorySegment data) {
        this.path = path;
        this.metadata = metadata;
        this.tensors = tensors;
        this.arena = arena;
        this.data = data;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new SafetensorsFormatException(path, "file of " + size + " bytes is too short to hold the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0, path);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength < 2 || headerLength > size - 8) {
                throw new SafetensorsFormatException(path, "header length " + Long.toUnsignedString(headerLength)
                        + " does not fit in a file of " + size + " bytes (truncated or corrupted)");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new SafetensorsFormatException(path, "header length " + headerLength + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8, path);
            long dataStart = 8 + headerLength;
            long dataSize = size - dataStart;
            Header header = parseHeader(path, headerBytes.flip(), dataSize);

            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart, dataSize, arena);
                return new SafetensorsFile(path, header.metadata(), header.tensors(), arena, mapped);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in the order of the header. */
    @Override
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    @Override
    public Optional<TensorInfo> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor's bytes, mapped, read-only; valid until this file is closed. */
    @Override
    public MemorySegment segment(String name) throws SafetensorsFormatException {
        TensorInfo t = info(name);
        return data.asSlice(t.begin(), t.byteSize()).asReadOnly();
    }

    @Override
    public void close() {
        arena.close();
    }

    private record Header(Map<String, String> metadata, Map<String, TensorInfo> tensors) {}

    private static Header parseHeader(Path path, ByteBuffer bytes, long dataSize) throws SafetensorsFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(path, "header is not UTF-8");
        }
        if (!text.startsWith("{")) {
            throw new SafetensorsFormatException(path, "header does not start with '{' (not a safetensors file, or corrupted)");
        }
        JsonObject root;
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.STRICT);
            JsonElement parsed = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("text after the header object");
            }
            root = parsed.getAsJsonObject();
        } catch (JsonParseException | IOException | IllegalStateException e) {
            throw new SafetensorsFormatException(path, "header is not valid JSON: " + firstLine(e.getMessage()));
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            String name = e.getKey();
            if (name.equals(SafetensorsWriter.METADATA_KEY)) {
                if (!e.getValue().isJsonObject()) {
                    throw new SafetensorsFormatException(path, "__metadata__ is not an object of strings");
                }
                for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                    if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString()) {
                        throw new SafetensorsFormatException(path, "__metadata__ value of '" + m.getKey() + "' is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().getAsString());
                }
            } else {
                tensors.put(name, tensorInfo(path, name, e.getValue(), dataSize));
            }
        }
        checkTiling(path, tensors.values(), dataSize);
        return new Header(Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors));
    }

    private static TensorInfo tensorInfo(Path path, String name, JsonElement element, long dataSize)
            throws SafetensorsFormatException {
        if (!element.isJsonObject()) {
            throw new SafetensorsFormatException(path, "entry of tensor " + name + " is not an object");
        }
        JsonObject o = element.getAsJsonObject();
        String dtypeName = string(path, name, o, "dtype");
        DType dtype = DType.named(dtypeName)
                .orElseThrow(() -> new SafetensorsFormatException(path, "tensor " + name + " has unknown dtype " + dtypeName));
        List<Long> shape = longs(path, name, o, "shape");
        List<Long> offsets = longs(path, name, o, "data_offsets");
        if (offsets.size() != 2) {
            throw new SafetensorsFormatException(path, "tensor " + name + ": data_offsets needs [begin, end], got " + offsets);
        }
        long begin = offsets.get(0), end = offsets.get(1);
        if (begin > end || end > dataSize) {
            throw new SafetensorsFormatException(path, "tensor " + name + ": data_offsets [" + begin + ", " + end
                    + "] do not lie within the " + dataSize + " bytes of data (truncated or corrupted)");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.elementCount(shape), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(path, "tensor " + name + ": shape " + shape + " overflows");
        }
        if (bytes != end - begin) {
            throw new SafetensorsFormatException(path, "tensor " + name + ": " + dtype + " " + shape + " needs " + bytes
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** The byte ranges must cover the data exactly once, as the reference implementation checks. */
    private static void checkTiling(Path path, java.util.Collection<TensorInfo> tensors, long dataSize)
            throws SafetensorsFormatException {
        List<TensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        for (TensorInfo t : byOffset) {
            if (t.begin() != expected) {
                throw new SafetensorsFormatException(path, "tensor " + t.name() + " starts at byte " + t.begin()
                        + " of the data, expected " + expected + " (overlap or gap)");
            }
            expected = t.end();
        }
        if (expected != dataSize) {
            throw new SafetensorsFormatException(path, "tensors cover " + expected + " of the " + dataSize
                    + " data bytes (truncated, or bytes after the last tensor)");
        }
    }

    private static String string(Path path, String name, JsonObject o, String field) throws SafetensorsFormatException {
        JsonElement e = o.get(field);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new SafetensorsFormatException(path, "tensor " + name + ": '" + field + "' is missing or not a string");
        }
        return e.getAsString();
    }

    private static List<Long> longs(Path path, String name, JsonObject o, String field) throws SafetensorsFormatException {
        JsonElement e = o.get(field);
        if (e == null || !e.isJsonArray()) {
            throw new SafetensorsFormatException(path, "tensor " + name + ": '" + field + "' is missing or not an array");
        }
        List<Long> values = new ArrayList<>();
        for (JsonElement v : e.getAsJsonArray()) {
            try {
                long n = new BigDecimal(v.getAsJsonPrimitive().getAsString()).longValueExact();
                if (n < 0) {
                    throw new ArithmeticException("negative");
                }
                values.add(n);
            } catch (RuntimeException bad) {
                throw new SafetensorsFormatException(path, "tensor " + name + ": '" + field + "' holds " + v
                        + ", not a non-negative integer");
            }
        }
        return values;
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position, Path path) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new SafetensorsFormatException(path, "file ended while reading the header");
            }
            at += n;
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}

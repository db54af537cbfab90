package dev.octet.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Writes the safetensors format: an 8-byte little-endian header length, a JSON header (each tensor's
 * {@code dtype}, {@code shape} and {@code data_offsets}, plus a {@code __metadata__} map of strings), then
 * the tensors' bytes back to back. The header is padded with spaces so the data starts at a multiple of 8
 * bytes, and tensors are laid out widest type first, so every tensor starts aligned to its element size
 * (as the reference implementation does) and a memory map can be read in place.
 */
public final class SafetensorsWriter {
    static final String METADATA_KEY = "__metadata__";

    private SafetensorsWriter() {}

    public static void write(WritableByteChannel out, Map<String, String> metadata, SequencedMap<String, ? extends TensorSource> tensors)
            throws IOException {
        List<Map.Entry<String, ? extends TensorSource>> layout = new ArrayList<>(tensors.entrySet());
        // Stable: tensors of one width keep the caller's order.
        layout.sort(Comparator.comparingInt((Map.Entry<String, ? extends TensorSource> e) -> e.getValue().dtype().bytes()).reversed());

        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add(METADATA_KEY, meta);
        }
        long offset = 0;
        for (Map.Entry<String, ? extends TensorSource> e : layout) {
            String name = e.getKey();
            if (name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("invalid tensor name '" + name + "'");
            }
            TensorSource t = e.getValue();
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", t.dtype().name());
            JsonArray shape = new JsonArray();
            t.shape().forEach(shape::add);
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + t.byteSize());
            entry.add("data_offsets", offsets);
            header.add(name, entry);
            offset += t.byteSize();
        }

        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (int) ((json.length + 7L) / 8 * 8);
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        writeFully(out, head.flip());
        for (Map.Entry<String, ? extends TensorSource> e : layout) {
            e.getValue().writeTo(out);
        }
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }
}

package dev.octet.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader and writer: every dtype round trips, the layout is the format's, damage is named. */
class SafetensorsTest {

    /** An array written in slices, without a copy of the whole, reads back as the array, past one slice too. */
    @Test
    void anF32SourceWrittenInSlicesReadsBackWhole(@TempDir Path dir) throws IOException {
        float[] values = new float[(1 << 20) * 2 + 124];  // a multiple of 3, past two slices
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.25f - 7;
        }
        SequencedMap<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("big", TensorSource.f32(values, 3, values.length / 3));
        tensors.put("small", TensorSource.f32(new float[] {1, 2}, 2));
        Path file = dir.resolve("sliced.safetensors");
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            SafetensorsWriter.write(out, Map.of(), tensors);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(values, f.floats("big"));
            assertEquals(List.of(3L, (long) values.length / 3), f.info("big").shape());
            assertArrayEquals(new float[] {1, 2}, f.floats("small"));
        }
        assertThrows(IllegalArgumentException.class, () -> TensorSource.f32(new float[5], 2, 2));
    }

    @Test
    void everyDtypeRoundTripsWithItsShapeAndTheMetadata(@TempDir Path dir) throws IOException {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        byte[] oneByte = {0, 1, 2, (byte) 0x7F, (byte) 0x80, (byte) 0xFF};
        for (DType d : DType.values()) {
            tensors.put("t." + d.name().toLowerCase(java.util.Locale.ROOT), switch (d.bytes()) {
                case 1 -> Tensor.ofBytes(d, oneByte, 2, 3);
                case 2 -> Tensor.ofShorts(d, new short[] {0x3F80, (short) 0xBF80, 0x7F80, 1, -1, 0x4049}, 3, 2);
                case 4 -> d == DType.F32 ? Tensor.f32(new float[] {1.5f, -0f, Float.NaN, Float.MIN_VALUE}, 4)
                        : Tensor.i32(new int[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE}, 2, 2);
                default -> d == DType.F64 ? Tensor.f64(new double[] {Math.PI, -1e300}, 2)
                        : Tensor.i64(new long[] {Long.MIN_VALUE, 42, Long.MAX_VALUE}, 3);
            });
        }
        tensors.put("scalar", Tensor.f32(new float[] {7f}));
        tensors.put("empty", Tensor.f32(new float[0], 0, 5));
        Map<String, String> metadata = Map.of("step", "12", "note", "ünïcode \"quoted\"");
        Path file = write(dir.resolve("all.safetensors"), metadata, tensors);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(metadata, f.metadata());
            assertEquals(tensors.keySet(), new java.util.HashSet<>(f.names()));
            for (var e : tensors.entrySet()) {
                TensorInfo info = f.info(e.getKey());
                assertEquals(e.getValue().dtype(), info.dtype(), e.getKey());
                assertEquals(e.getValue().shape(), info.shape(), e.getKey());
                byte[] expected = new byte[(int) e.getValue().byteSize()];
                e.getValue().data().duplicate().get(expected);
                assertArrayEquals(expected, f.bytes(e.getKey()), e.getKey());
            }
            assertArrayEquals(new float[] {1.5f, -0f, Float.NaN, Float.MIN_VALUE}, f.floats("t.f32"));
            assertArrayEquals(new long[] {Long.MIN_VALUE, 42, Long.MAX_VALUE}, f.longs("t.i64"));
            assertArrayEquals(new double[] {Math.PI, -1e300}, f.doubles("t.f64"));
            assertArrayEquals(new int[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE}, f.ints("t.i32"));
            assertArrayEquals(new short[] {0x3F80, (short) 0xBF80, 0x7F80, 1, -1, 0x4049}, f.shorts("t.bf16"));
            assertEquals(List.of(), f.info("scalar").shape());
            assertEquals(0, f.floats("empty").length);
            SafetensorsFormatException wrongType = assertThrows(SafetensorsFormatException.class, () -> f.floats("t.i64"));
            assertTrue(wrongType.getMessage().contains("t.i64 is I64"), wrongType.getMessage());
        }
    }

    @Test
    void dataStartsAlignedToEightAndEveryTensorToItsWidth(@TempDir Path dir) throws IOException {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("odd_bytes", Tensor.ofBytes(DType.U8, new byte[3], 3));
        tensors.put("bf16", Tensor.ofShorts(DType.BF16, new short[3], 3));
        tensors.put("f32", Tensor.f32(new float[3], 3));
        tensors.put("i64", Tensor.i64(new long[1], 1));
        Path file = write(dir.resolve("aligned.safetensors"), Map.of("k", "v"), tensors);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = bytes.getLong(0);
        assertEquals(0, (8 + headerLength) % 8);
        String header = new String(bytes.array(), 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"k\":\"v\"}"), header);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.names()) {
                TensorInfo t = f.info(name);
                assertEquals(0, (8 + headerLength + t.begin()) % t.dtype().bytes(), name);
            }
        }
    }

    @Test
    void readsAFileLaidOutByHandAsTheFormatDescribesIt(@TempDir Path dir) throws IOException {
        // What the reference implementation writes for {"a": f32 [2], "b": bf16 [1]}, with its space padding.
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[8,10]}}";
        byte[] header = (json + " ".repeat((8 - json.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + header.length + 10).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(header.length).put(header).putFloat(1f).putFloat(-2f).putShort((short) 0x3FC0);
        Path path = Files.write(dir.resolve("hand.safetensors"), file.array());
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertArrayEquals(new float[] {1f, -2f}, f.floats("a"));
            assertArrayEquals(new short[] {0x3FC0}, f.shorts("b"));
        }
    }

    @Test
    void damagedFilesFailWithOneLineNamingTheFileAndTheProblem(@TempDir Path dir) throws IOException {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.f32(new float[] {1, 2, 3, 4}, 2, 2));
        tensors.put("b", Tensor.f32(new float[] {5, 6}, 2));
        byte[] good = Files.readAllBytes(write(dir.resolve("good.safetensors"), Map.of(), tensors));
        int headerLength = (int) ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(good, 8, headerLength, StandardCharsets.UTF_8);

        assertDamaged(dir, "empty", new byte[0], "too short");
        assertDamaged(dir, "five-bytes", java.util.Arrays.copyOf(good, 5), "too short");
        assertDamaged(dir, "header-cut", java.util.Arrays.copyOf(good, 8 + headerLength / 2), "does not fit");
        assertDamaged(dir, "data-cut", java.util.Arrays.copyOf(good, good.length - 4), "do not lie within");
        assertDamaged(dir, "trailing-bytes", java.util.Arrays.copyOf(good, good.length + 4), "cover");
        assertDamaged(dir, "huge-length", withLength(good, Long.MAX_VALUE), "does not fit");
        assertDamaged(dir, "negative-length", withLength(good, -1), "18446744073709551615");
        assertDamaged(dir, "zero-length", withLength(new byte[8], 0), "does not fit");
        assertDamaged(dir, "not-json", withHeader(good, header.replaceFirst("\\{", "{{")), "not valid JSON");
        assertDamaged(dir, "not-an-object", withHeader(good, "[" + header.substring(1)), "does not start with '{'");
        assertDamaged(dir, "trailing-json", withHeader(good, header.trim() + "{}"), "not valid JSON");
        assertDamaged(dir, "offset-beyond", withHeader(good, header.replace("[0,16]", "[0,9999]")), "do not lie within");
        assertDamaged(dir, "offset-huge", withHeader(good, header.replace("[0,16]", "[0,99999999999999999999]")),
                "not a non-negative integer");
        assertDamaged(dir, "offset-negative", withHeader(good, header.replace("[0,16]", "[-8,16]")), "not a non-negative integer");
        assertDamaged(dir, "offsets-reversed", withHeader(good, header.replace("[0,16]", "[16,0]")), "do not lie within");
        assertDamaged(dir, "overlap", withHeader(good, header.replace("[16,24]", "[8,16]")), "overlap or gap");
        assertDamaged(dir, "shape-mismatch", withHeader(good, header.replace("[2,2]", "[2,3]")), "needs 24 bytes");
        assertDamaged(dir, "shape-overflow", withHeader(good, header.replace("[2,2]", "[4294967296,4294967296]")), "overflows");
        assertDamaged(dir, "unknown-dtype", withHeader(good, header.replaceFirst("F32", "F33")), "unknown dtype F33");
        assertDamaged(dir, "metadata-number", withHeader(good, "{\"__metadata__\":{\"a\":1}," + header.substring(1)), "not a string");
    }

    @Test
    void aMissingTensorIsNamed(@TempDir Path dir) throws IOException {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.f32(new float[] {1}, 1));
        try (SafetensorsFile f = SafetensorsFile.open(write(dir.resolve("one.safetensors"), Map.of(), tensors))) {
            assertFalse(f.find("v").isPresent());
            assertTrue(assertThrows(SafetensorsFormatException.class, () -> f.floats("v")).getMessage().contains("no tensor named v"));
        }
    }

    private static void assertDamaged(Path dir, String name, byte[] content, String expected) throws IOException {
        Path file = Files.write(dir.resolve(name + ".safetensors"), content);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(file).close(), name);
        String message = e.getMessage();
        assertTrue(message.startsWith(file.toString() + ": "), message);
        assertTrue(message.contains(expected), name + ": " + message);
        assertFalse(message.contains("\n"), message);
    }

    private static byte[] withLength(byte[] file, long length) {
        byte[] copy = file.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        return copy;
    }

    /** The same data after a different header, padded to the original length where it is shorter. */
    private static byte[] withHeader(byte[] file, String header) {
        int oldLength = (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int newLength = Math.max(json.length, oldLength);
        ByteBuffer b = ByteBuffer.allocate(8 + newLength + file.length - 8 - oldLength).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(newLength).put(json);
        for (int i = json.length; i < newLength; i++) {
            b.put((byte) ' ');
        }
        b.put(file, 8 + oldLength, file.length - 8 - oldLength);
        return b.array();
    }

    static Path write(Path file, Map<String, String> metadata, SequencedMap<String, Tensor> tensors) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            SafetensorsWriter.write(ch, metadata, tensors);
        }
        return file;
    }
}

package dev.octet.hf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Writes NumPy's .npy format (version 1.0): what {@code numpy.load} reads without any other library. */
public final class NpyFile {
    private NpyFile() {}

    /** A little-endian float64 array of {@code shape}, C order. */
    public static void writeFloat64(Path file, double[] values, int... shape) throws IOException {
        long count = Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b);
        if (count != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count + " values, not " + values.length);
        }
        String dims = Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", "))
                + (shape.length == 1 ? "," : "");
        StringBuilder header = new StringBuilder("{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }");
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(10 + h.length + values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) h.length).put(h);
        b.asDoubleBuffer().put(values);
        Files.write(file, b.array());
    }
}

package dev.octet.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Named tensors read in place: one safetensors file ({@link SafetensorsFile}), or a checkpoint that the ranks of a
 * data-parallel run wrote in shards ({@link CheckpointShards}), read as one.
 */
public interface TensorReader extends AutoCloseable {
    /** A checkpoint or weights file: one safetensors file, or a directory of a checkpoint's shards. */
    static TensorReader open(Path path) throws IOException {
        return Files.isDirectory(path) ? CheckpointShards.open(path) : SafetensorsFile.open(path);
    }

    /** The file or directory read: what errors name. */
    Path path();

    Map<String, String> metadata();

    /** Tensor names in the order they are stored. */
    List<String> names();

    Optional<TensorInfo> find(String name);

    /** The tensor's bytes, mapped, read-only; valid until this reader is closed. */
    MemorySegment segment(String name) throws SafetensorsFormatException;

    @Override
    void close();

    default TensorInfo info(String name) throws SafetensorsFormatException {
        return find(name).orElseThrow(() -> new SafetensorsFormatException(path(), "no tensor named " + name));
    }

    default float[] floats(String name) throws SafetensorsFormatException {
        return segment(checked(name, DType.F32)).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    default double[] doubles(String name) throws SafetensorsFormatException {
        return segment(checked(name, DType.F64)).toArray(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    default long[] longs(String name) throws SafetensorsFormatException {
        return segment(checked(name, DType.I64)).toArray(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    default int[] ints(String name) throws SafetensorsFormatException {
        return segment(checked(name, DType.I32)).toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    /** The bit patterns of a two-byte tensor (BF16, F16, I16, U16). */
    default short[] shorts(String name) throws SafetensorsFormatException {
        TensorInfo t = info(name);
        if (t.dtype().bytes() != 2) {
            throw new SafetensorsFormatException(path(), name + " is " + t.dtype() + ", not a two-byte type");
        }
        return segment(name).toArray(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    /** The raw bytes of any tensor. */
    default byte[] bytes(String name) throws SafetensorsFormatException {
        return segment(name).toArray(ValueLayout.JAVA_BYTE);
    }

    private String checked(String name, DType expected) throws SafetensorsFormatException {
        TensorInfo t = info(name);
        if (t.dtype() != expected) {
            throw new SafetensorsFormatException(path(), name + " is " + t.dtype() + ", expected " + expected);
        }
        return name;
    }
}

package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A tensor to write: element type, shape and its bytes in little-endian order, as the format stores them.
 * The factories copy their arrays, so a tensor does not change when its source does.
 */
public record Tensor(DType dtype, List<Long> shape, ByteBuffer data) implements TensorSource {
    public Tensor {
        shape = List.copyOf(shape);
        long expected = elementCount(shape) * dtype.bytes();
        if (data.remaining() != expected) {
            throw new IllegalArgumentException(dtype + " " + shape + " needs " + expected + " bytes, got " + data.remaining());
        }
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
    }

    public static Tensor f32(float[] values, long... shape) {
        ByteBuffer b = allocate(values.length * 4L);
        b.asFloatBuffer().put(values);
        return new Tensor(DType.F32, dims(shape), b);
    }

    public static Tensor f64(double[] values, long... shape) {
        ByteBuffer b = allocate(values.length * 8L);
        b.asDoubleBuffer().put(values);
        return new Tensor(DType.F64, dims(shape), b);
    }

    public static Tensor i64(long[] values, long... shape) {
        ByteBuffer b = allocate(values.length * 8L);
        b.asLongBuffer().put(values);
        return new Tensor(DType.I64, dims(shape), b);
    }

    public static Tensor i32(int[] values, long... shape) {
        ByteBuffer b = allocate(values.length * 4L);
        b.asIntBuffer().put(values);
        return new Tensor(DType.I32, dims(shape), b);
    }

    /** Two-byte types (BF16, F16, I16, U16) from their raw bit patterns. */
    public static Tensor ofShorts(DType dtype, short[] bits, long... shape) {
        requireWidth(dtype, 2);
        ByteBuffer b = allocate(bits.length * 2L);
        b.asShortBuffer().put(bits);
        return new Tensor(dtype, dims(shape), b);
    }

    /** One-byte types (FP8, U8, I8, BOOL) from their raw bytes. */
    public static Tensor ofBytes(DType dtype, byte[] bytes, long... shape) {
        requireWidth(dtype, 1);
        return new Tensor(dtype, dims(shape), ByteBuffer.wrap(bytes.clone()));
    }

    public long elementCount() {
        return elementCount(shape);
    }

    @Override
    public long byteSize() {
        return data.remaining();
    }

    @Override
    public void writeTo(WritableByteChannel out) throws IOException {
        ByteBuffer bytes = data.duplicate();
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }

    static long elementCount(List<Long> shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + shape);
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static List<Long> dims(long[] shape) {
        return java.util.Arrays.stream(shape).boxed().toList();
    }

    private static ByteBuffer allocate(long bytes) {
        return ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void requireWidth(DType dtype, int width) {
        if (dtype.bytes() != width) {
            throw new IllegalArgumentException(dtype + " is not a " + width + "-byte type");
        }
    }
}

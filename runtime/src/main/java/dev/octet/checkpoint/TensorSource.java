package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.List;

/**
 * A tensor about to be written: its element type, shape and size are known up front (the file's header comes
 * first), its bytes are produced only when {@link #writeTo} is called, so state that lives elsewhere (on a
 * device) streams into a file without a host copy of the whole.
 */
public interface TensorSource {
    DType dtype();

    List<Long> shape();

    /** Bytes {@link #writeTo} writes: the element count times the element size. */
    default long byteSize() {
        return Tensor.elementCount(shape()) * dtype().bytes();
    }

    /** Writes the tensor's bytes, little-endian, to {@code out}. */
    void writeTo(WritableByteChannel out) throws IOException;

    /** Writes a tensor's little-endian bytes to a channel: what a {@link TensorSource} is made of. */
    @FunctionalInterface
    interface Writer {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    /** A tensor of {@code dtype} and {@code shape} whose bytes {@code writer} produces when the file is written. */
    static TensorSource of(DType dtype, List<Long> shape, Writer writer) {
        List<Long> dims = List.copyOf(shape);
        return new TensorSource() {
            @Override
            public DType dtype() {
                return dtype;
            }

            @Override
            public List<Long> shape() {
                return dims;
            }

            @Override
            public void writeTo(WritableByteChannel out) throws IOException {
                writer.writeTo(out);
            }
        };
    }

    /**
     * {@code values} as an F32 tensor, converted when written in slices of 1 Mi elements: unlike
     * {@link Tensor#f32}, no copy of the whole array is made, so a checkpoint of many arrays needs no second
     * copy of them. The array must not change until the tensor is written.
     */
    static TensorSource f32(float[] values, long... shape) {
        List<Long> dims = Arrays.stream(shape).boxed().toList();
        if (Tensor.elementCount(dims) != values.length) {
            throw new IllegalArgumentException(values.length + " values for shape " + dims);
        }
        return of(DType.F32, dims, out -> {
            int slice = 1 << 20;
            ByteBuffer bytes = ByteBuffer.allocate(Math.min(values.length, slice) * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (int from = 0; from < values.length; from += slice) {
                int n = Math.min(slice, values.length - from);
                bytes.clear();
                bytes.asFloatBuffer().put(values, from, n);
                bytes.limit(n * Float.BYTES);
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
            }
        });
    }
}

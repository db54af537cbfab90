package dev.octet.checkpoint;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;
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
}

package dev.octet.checkpoint;

import java.util.List;

/** One tensor's header entry: type, shape and its byte range within the data that follows the header. */
public record TensorInfo(String name, DType dtype, List<Long> shape, long begin, long end) {
    public TensorInfo {
        shape = List.copyOf(shape);
    }

    public long elementCount() {
        return Tensor.elementCount(shape);
    }

    public long byteSize() {
        return end - begin;
    }
}

package dev.octet.gpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory (cuMemAllocHost): what device copies stream through at full PCIe speed, and what a
 * file channel can write from or a memory map be copied into without another buffer in between.
 */
public final class PinnedBuffer implements AutoCloseable {
    private final Pointer pointer;
    private final long bytes;
    private final ByteBuffer buffer;
    private boolean freed;

    private PinnedBuffer(Pointer pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
        this.buffer = pointer.getByteBuffer(0, bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Allocates in the calling thread's current context; at most 2 GiB, one ByteBuffer's reach. */
    public static PinnedBuffer allocate(long bytes) {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a pinned buffer holds 1 B to 2 GiB, not " + bytes);
        }
        Pointer pointer = new Pointer();
        CudaCheck.check(JCudaDriver.cuMemAllocHost(pointer, bytes), "cuMemAllocHost(" + bytes + ")");
        return new PinnedBuffer(pointer, bytes);
    }

    public long bytes() {
        return bytes;
    }

    /** The first {@code length} bytes, positioned at 0, for a channel to write. */
    public ByteBuffer front(long length) {
        requireOpen(length);
        return buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).limit((int) length);
    }

    /** The same bytes as a memory segment, to copy a mapped file region into. */
    public MemorySegment segment(long length) {
        requireOpen(length);
        return MemorySegment.ofBuffer(front(length));
    }

    Pointer pointer() {
        requireOpen(0);
        return pointer;
    }

    private void requireOpen(long length) {
        if (freed) {
            throw new IllegalStateException("pinned buffer already freed");
        }
        if (length < 0 || length > bytes) {
            throw new IllegalArgumentException(length + " B outside a pinned buffer of " + bytes + " B");
        }
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            CudaCheck.check(JCudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost");
        }
    }
}

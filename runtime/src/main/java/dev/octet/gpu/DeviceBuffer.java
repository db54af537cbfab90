package dev.octet.gpu;

import jcuda.Pointer;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmemorytype;
import jcuda.driver.JCudaDriver;

/**
 * Device memory from cuMemAlloc, with synchronous copies to and from host arrays. A copy covers the front
 * of the buffer, as many bytes as the host array holds; an array larger than the buffer is an error, never
 * a silent truncation.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CUdeviceptr pointer;
    private final long bytes;
    private boolean freed;

    private DeviceBuffer(CUdeviceptr pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
    }

    /** Allocates in the calling thread's current context. */
    public static DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device buffers have a positive size: " + bytes);
        }
        CUdeviceptr pointer = new CUdeviceptr();
        CudaCheck.check(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc(" + bytes + ")");
        return new DeviceBuffer(pointer, bytes);
    }

    public long bytes() {
        return bytes;
    }

    /** The device address, for kernel arguments and java.lang.foreign calls. */
    public long address() {
        return JCudaHandles.address(pointer);
    }

    /** A kernel argument pointing {@code offsetBytes} into this buffer. */
    public KernelArg.DevicePointer at(long offsetBytes) {
        if (offsetBytes < 0 || offsetBytes >= bytes) {
            throw new IndexOutOfBoundsException("offset " + offsetBytes + " outside a buffer of " + bytes + " B");
        }
        return new KernelArg.DevicePointer(address() + offsetBytes);
    }

    public KernelArg.DevicePointer arg() {
        return at(0);
    }

    public void copyFrom(float[] host) {
        upload(Pointer.to(host), (long) host.length * Float.BYTES);
    }

    public void copyFrom(short[] host) {
        upload(Pointer.to(host), (long) host.length * Short.BYTES);
    }

    public void copyFrom(byte[] host) {
        upload(Pointer.to(host), host.length);
    }

    public void copyFrom(int[] host) {
        upload(Pointer.to(host), (long) host.length * Integer.BYTES);
    }

    public void copyTo(float[] host) {
        download(Pointer.to(host), (long) host.length * Float.BYTES);
    }

    public void copyTo(short[] host) {
        download(Pointer.to(host), (long) host.length * Short.BYTES);
    }

    public void copyTo(byte[] host) {
        download(Pointer.to(host), host.length);
    }

    public void copyTo(int[] host) {
        download(Pointer.to(host), (long) host.length * Integer.BYTES);
    }

    /** Every byte set to {@code value}. */
    public void fill(byte value) {
        CudaCheck.check(JCudaDriver.cuMemsetD8(pointer, value, bytes), "cuMemsetD8");
    }

    /**
     * Every 32-bit word set to {@code bits}, e.g. a NaN pattern to poison outputs before a kernel under test
     * writes them. The size must be a multiple of 4.
     */
    public void fill32(int bits) {
        if (bytes % 4 != 0) {
            throw new IllegalArgumentException("fill32 on a buffer of " + bytes + " B");
        }
        CudaCheck.check(JCudaDriver.cuMemsetD32(pointer, bits, bytes / 4), "cuMemsetD32");
    }

    /**
     * Queues a copy of {@code host} to {@code offsetBytes} into this buffer on {@code stream}, ordered with the
     * kernels queued there. The host array may be reused as soon as this returns: pageable memory is staged by
     * the driver before the call returns.
     */
    public void copyFromAsync(long offsetBytes, int[] host, CudaStream stream) {
        uploadAsync(offsetBytes, Pointer.to(host), (long) host.length * Integer.BYTES, stream);
    }

    public void copyFromAsync(long offsetBytes, float[] host, CudaStream stream) {
        uploadAsync(offsetBytes, Pointer.to(host), (long) host.length * Float.BYTES, stream);
    }

    /** Synchronous copy to {@code offsetBytes} into this buffer (the legacy stream: nothing else may be running). */
    public void copyFrom(long offsetBytes, float[] host) {
        requireRange(offsetBytes, (long) host.length * Float.BYTES);
        CudaCheck.check(JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(offsetBytes), Pointer.to(host),
                (long) host.length * Float.BYTES), "cuMemcpyHtoD");
    }

    public void copyFrom(long offsetBytes, short[] host) {
        requireRange(offsetBytes, (long) host.length * Short.BYTES);
        CudaCheck.check(JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(offsetBytes), Pointer.to(host),
                (long) host.length * Short.BYTES), "cuMemcpyHtoD");
    }

    public void copyFrom(long offsetBytes, byte[] host) {
        requireRange(offsetBytes, host.length);
        CudaCheck.check(JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(offsetBytes), Pointer.to(host), host.length),
                "cuMemcpyHtoD");
    }

    /** Synchronous copy from {@code offsetBytes} into this buffer; call after the stream is synchronized. */
    public void copyTo(long offsetBytes, float[] host) {
        requireRange(offsetBytes, (long) host.length * Float.BYTES);
        CudaCheck.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(host), pointer.withByteOffset(offsetBytes),
                (long) host.length * Float.BYTES), "cuMemcpyDtoH");
    }

    public void copyTo(long offsetBytes, short[] host) {
        requireRange(offsetBytes, (long) host.length * Short.BYTES);
        CudaCheck.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(host), pointer.withByteOffset(offsetBytes),
                (long) host.length * Short.BYTES), "cuMemcpyDtoH");
    }

    public void copyTo(long offsetBytes, byte[] host) {
        requireRange(offsetBytes, host.length);
        CudaCheck.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(host), pointer.withByteOffset(offsetBytes), host.length),
                "cuMemcpyDtoH");
    }

    /**
     * Synchronous copy of a sub-matrix: {@code height} rows of {@code widthBytes} each, the rows {@code pitchBytes}
     * apart from {@code offsetBytes} on, packed into {@code host} (which holds {@code height × widthBytes} bytes).
     */
    public void copyTo2D(long offsetBytes, long pitchBytes, long widthBytes, long height, byte[] host) {
        if (widthBytes > pitchBytes || height * widthBytes != host.length) {
            throw new IllegalArgumentException(height + " rows of " + widthBytes + " B (pitch " + pitchBytes + ") into "
                    + host.length + " B");
        }
        requireRange(offsetBytes, height == 0 ? 0 : (height - 1) * pitchBytes + widthBytes);
        CUDA_MEMCPY2D copy = new CUDA_MEMCPY2D();
        copy.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.srcDevice = pointer.withByteOffset(offsetBytes);
        copy.srcPitch = pitchBytes;
        copy.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_HOST;
        copy.dstHost = Pointer.to(host);
        copy.dstPitch = widthBytes;
        copy.WidthInBytes = widthBytes;
        copy.Height = height;
        CudaCheck.check(JCudaDriver.cuMemcpy2D(copy), "cuMemcpy2D");
    }

    /** Synchronous copy of {@code length} bytes from {@code offsetBytes} into the front of {@code host}. */
    public void copyTo(long offsetBytes, PinnedBuffer host, long length) {
        requireRange(offsetBytes, length);
        if (length > host.bytes()) {
            throw new IllegalArgumentException(length + " B do not fit a pinned buffer of " + host.bytes() + " B");
        }
        CudaCheck.check(JCudaDriver.cuMemcpyDtoH(host.pointer(), pointer.withByteOffset(offsetBytes), length), "cuMemcpyDtoH");
    }

    /** Synchronous copy of the first {@code length} bytes of {@code host} to {@code offsetBytes} into this buffer. */
    public void copyFrom(long offsetBytes, PinnedBuffer host, long length) {
        requireRange(offsetBytes, length);
        if (length > host.bytes()) {
            throw new IllegalArgumentException(length + " B exceed a pinned buffer of " + host.bytes() + " B");
        }
        CudaCheck.check(JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(offsetBytes), host.pointer(), length), "cuMemcpyHtoD");
    }

    /** Queues zeroing {@code length} bytes from {@code offsetBytes} on {@code stream}. */
    public void zeroAsync(long offsetBytes, long length, CudaStream stream) {
        requireRange(offsetBytes, length);
        CudaCheck.check(JCudaDriver.cuMemsetD8Async(pointer.withByteOffset(offsetBytes), (byte) 0, length,
                stream.handle()), "cuMemsetD8Async");
    }

    private void uploadAsync(long offsetBytes, Pointer host, long hostBytes, CudaStream stream) {
        requireRange(offsetBytes, hostBytes);
        CudaCheck.check(JCudaDriver.cuMemcpyHtoDAsync(pointer.withByteOffset(offsetBytes), host, hostBytes,
                stream.handle()), "cuMemcpyHtoDAsync(" + hostBytes + ")");
    }

    private void requireRange(long offsetBytes, long length) {
        if (freed) {
            throw new IllegalStateException("device buffer already freed");
        }
        if (offsetBytes < 0 || length < 0 || offsetBytes + length > bytes) {
            throw new IllegalArgumentException("bytes [" + offsetBytes + ", " + (offsetBytes + length)
                    + ") outside a device buffer of " + bytes + " B");
        }
    }

    private void upload(Pointer host, long hostBytes) {
        requireFits(hostBytes);
        CudaCheck.check(JCudaDriver.cuMemcpyHtoD(pointer, host, hostBytes), "cuMemcpyHtoD(" + hostBytes + ")");
    }

    private void download(Pointer host, long hostBytes) {
        requireFits(hostBytes);
        CudaCheck.check(JCudaDriver.cuMemcpyDtoH(host, pointer, hostBytes), "cuMemcpyDtoH(" + hostBytes + ")");
    }

    private void requireFits(long hostBytes) {
        if (freed) {
            throw new IllegalStateException("device buffer already freed");
        }
        if (hostBytes > bytes) {
            throw new IllegalArgumentException("host array of " + hostBytes + " B does not fit a device buffer of "
                    + bytes + " B");
        }
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            CudaCheck.check(JCudaDriver.cuMemFree(pointer), "cuMemFree");
        }
    }
}

package dev.octet.gpu;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
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

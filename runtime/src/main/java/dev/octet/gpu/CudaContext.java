package dev.octet.gpu;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * One device's primary context (the one the CUDA runtime and PyTorch share), current on the thread that
 * opened it. Opening probes first, so where there is no driver this throws {@link CudaUnavailableException}
 * instead of JCuda's UnsatisfiedLinkError.
 */
public final class CudaContext implements AutoCloseable {
    private final CUdevice device;
    private final CUcontext context;
    private final CudaAvailability.Available info;
    private boolean closed;

    private CudaContext(CUdevice device, CUcontext context, CudaAvailability.Available info) {
        this.device = device;
        this.context = context;
        this.info = info;
    }

    public static CudaContext open(int ordinal) {
        CudaAvailability.Available info = switch (CudaAvailability.probe()) {
            case CudaAvailability.Available available -> available;
            case CudaAvailability.Unavailable why -> throw new CudaUnavailableException(why);
        };
        if (ordinal < 0 || ordinal >= info.deviceCount()) {
            throw new IllegalArgumentException("no CUDA device " + ordinal + "; there are " + info.deviceCount());
        }
        JCudaDriver.setExceptionsEnabled(false); // every result is checked by CudaCheck, naming the call
        CudaCheck.check(JCudaDriver.cuInit(0), "cuInit");
        CUdevice device = new CUdevice();
        CudaCheck.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet");
        CUcontext context = new CUcontext();
        CudaCheck.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        CudaCheck.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        return new CudaContext(device, context, info);
    }

    /** What the probe saw of device 0 (name, compute capability, memory). */
    public CudaAvailability.Available info() {
        return info;
    }

    /** Makes the context current on the calling thread: driver calls act on the current context. */
    public void makeCurrent() {
        CudaCheck.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    public void synchronize() {
        CudaCheck.check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /**
     * Bytes of device memory in use, by every context and process on the device: total minus free as
     * cuMemGetInfo reports them. Does not wait for the device.
     */
    public long memoryInUse() {
        return memoryInfo().usedBytes();
    }

    /** Free and total bytes of the device, as cuMemGetInfo reports them now. Does not wait for the device. */
    public DeviceMemoryInfo memoryInfo() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        CudaCheck.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new DeviceMemoryInfo(free[0], total[0]);
    }

    public DeviceBuffer allocate(long bytes) {
        return DeviceBuffer.allocate(bytes);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            CudaCheck.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
        }
    }
}

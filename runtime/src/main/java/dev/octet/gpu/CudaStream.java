package dev.octet.gpu;

import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/** A non-blocking stream: it does not synchronize with the legacy default stream, which graphs need. */
public final class CudaStream implements AutoCloseable {
    private final CUstream stream;
    private boolean destroyed;

    private CudaStream(CUstream stream) {
        this.stream = stream;
    }

    public static CudaStream create() {
        CUstream stream = new CUstream();
        CudaCheck.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        return new CudaStream(stream);
    }

    CUstream handle() {
        return stream;
    }

    long address() {
        return JCudaHandles.address(stream);
    }

    public void synchronize() {
        CudaCheck.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public void close() {
        if (!destroyed) {
            destroyed = true;
            CudaCheck.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
        }
    }
}

package dev.octet.gpu;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUevent_record_flags;
import jcuda.driver.JCudaDriver;

/** A timing event: record two on a stream, then read the milliseconds between them. */
public final class CudaEvent implements AutoCloseable {
    private final CUevent event;
    private boolean destroyed;

    private CudaEvent(CUevent event) {
        this.event = event;
    }

    public static CudaEvent create() {
        CUevent event = new CUevent();
        CudaCheck.check(JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate");
        return new CudaEvent(event);
    }

    public void record(CudaStream stream) {
        CudaCheck.check(JCudaDriver.cuEventRecord(event, stream.handle()), "cuEventRecord");
    }

    /**
     * Records this event as a node of the graph {@code stream} is capturing, so that every replay records it on the
     * device between the nodes around it (a plain record during capture only orders streams; outside capture this
     * call is invalid).
     */
    public void recordInCapture(CudaStream stream) {
        CudaCheck.check(JCudaDriver.cuEventRecordWithFlags(event, stream.handle(),
                CUevent_record_flags.CU_EVENT_RECORD_EXTERNAL), "cuEventRecordWithFlags(CU_EVENT_RECORD_EXTERNAL)");
    }

    public void synchronize() {
        CudaCheck.check(JCudaDriver.cuEventSynchronize(event), "cuEventSynchronize");
    }

    /** Device time from {@code start} to this event, waiting for this event first. */
    public float millisSince(CudaEvent start) {
        synchronize();
        float[] millis = new float[1];
        CudaCheck.check(JCudaDriver.cuEventElapsedTime(millis, start.event, event), "cuEventElapsedTime");
        return millis[0];
    }

    @Override
    public void close() {
        if (!destroyed) {
            destroyed = true;
            CudaCheck.check(JCudaDriver.cuEventDestroy(event), "cuEventDestroy");
        }
    }
}

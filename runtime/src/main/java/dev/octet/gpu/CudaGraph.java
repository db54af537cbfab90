package dev.octet.gpu;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * Work captured from a stream once and replayed with one launch: a training step is hundreds of small
 * kernels, and replaying them as a graph removes the per-launch CPU cost.
 */
public final class CudaGraph implements AutoCloseable {
    private final CUgraph graph;
    private final CUgraphExec executable;
    private boolean destroyed;

    private CudaGraph(CUgraph graph, CUgraphExec executable) {
        this.graph = graph;
        this.executable = executable;
    }

    /**
     * Captures what {@code work} queues on {@code stream} (nothing runs during capture) and instantiates it.
     * If {@code work} throws, the capture is ended and discarded before the exception propagates, so the
     * stream is usable again.
     */
    public static CudaGraph capture(CudaStream stream, Runnable work) {
        CudaCheck.check(JCudaDriver.cuStreamBeginCapture(stream.handle(),
                CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_GLOBAL), "cuStreamBeginCapture");
        CUgraph graph = new CUgraph();
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            if (JCudaDriver.cuStreamEndCapture(stream.handle(), graph) == 0) {
                JCudaDriver.cuGraphDestroy(graph);
            }
            throw e;
        }
        CudaCheck.check(JCudaDriver.cuStreamEndCapture(stream.handle(), graph), "cuStreamEndCapture");
        CUgraphExec executable = new CUgraphExec();
        int result = JCudaDriver.cuGraphInstantiate(executable, graph, 0);
        if (result != 0) {
            JCudaDriver.cuGraphDestroy(graph);
            CudaCheck.check(result, "cuGraphInstantiate");
        }
        return new CudaGraph(graph, executable);
    }

    public void launch(CudaStream stream) {
        CudaCheck.check(JCudaDriver.cuGraphLaunch(executable, stream.handle()), "cuGraphLaunch");
    }

    @Override
    public void close() {
        if (!destroyed) {
            destroyed = true;
            CudaCheck.check(JCudaDriver.cuGraphExecDestroy(executable), "cuGraphExecDestroy");
            CudaCheck.check(JCudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
        }
    }
}

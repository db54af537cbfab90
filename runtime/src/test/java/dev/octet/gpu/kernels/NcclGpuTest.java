package dev.octet.gpu.kernels;

import dev.octet.compiler.ir.DType;
import dev.octet.gpu.Nccl;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * NCCL through java.lang.foreign on the GPU, one rank: a communicator of one, and each collective the
 * data-parallel step uses (all-reduce, reduce-scatter, all-gather) gives back what it was given.
 * NCCL must be loadable: scripts/gpu-tests-remote points {@value Nccl#LIBRARY_ENV} at PyTorch's copy.
 */
@Tag("gpu")
class NcclGpuTest {

    @Test
    void oneRankCollectivesReturnTheirInput() {
        GpuSession session = GpuSession.get();
        session.context().makeCurrent();
        Nccl nccl = switch (Nccl.probe()) {
            case Nccl.Availability.Available available -> available.nccl();
            case Nccl.Availability.Unavailable why -> throw new AssertionError("NCCL: " + why.reason());
        };
        int n = 10_007;
        float[] x = new RandomTensors(51).gradients(n);
        try (DeviceWorkspace ws = session.workspace();
             Nccl.Communicator comm = nccl.initRank(nccl.uniqueId(), 1, 0)) {
            assertEquals(1, comm.worldSize());
            ws.input("x", HostArray.f32(x)).output("sum", DType.F32, n).output("scattered", DType.F32, n)
                    .output("gathered", DType.F32, n);
            comm.allReduce(ws.address("x"), ws.address("sum"), n, Nccl.DataType.FLOAT32, Nccl.ReduceOp.SUM, 0L);
            comm.reduceScatter(ws.address("x"), ws.address("scattered"), n, Nccl.DataType.FLOAT32, Nccl.ReduceOp.SUM, 0L);
            comm.allGather(ws.address("x"), ws.address("gathered"), n, Nccl.DataType.FLOAT32, 0L);
            session.context().synchronize();
            assertArrayEquals(x, ws.f32("sum"), "all-reduce of one rank, NCCL " + nccl.versionName());
            assertArrayEquals(x, ws.f32("scattered"), "reduce-scatter of one rank");
            assertArrayEquals(x, ws.f32("gathered"), "all-gather of one rank");
        } catch (IllegalStateException e) {
            fail(e.getMessage());
        }
    }
}

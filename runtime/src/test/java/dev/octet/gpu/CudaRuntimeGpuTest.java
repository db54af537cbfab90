package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver layer on the H200: buffers, launches, events, graphs, and the java.lang.foreign entry points. */
@Tag("gpu")
class CudaRuntimeGpuTest {
    private static CudaContext context;
    private static KernelCompiler nvrtc;

    @BeforeAll
    static void open() {
        context = CudaContext.open(0);
        nvrtc = NvrtcCompilers.open();
        System.out.println(context.info() + "; " + nvrtc.description());
    }

    @AfterAll
    static void close() {
        context.close();
    }

    private static float[] randomFloats(int n, long seed) {
        Random random = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    @Test
    void theProbeSeesAHopperDevice() {
        CudaAvailability.Available device = assertInstanceOf(CudaAvailability.Available.class, CudaAvailability.probe());
        assertEquals(new ComputeCapability(9, 0), device.computeCapability());
        assertTrue(device.memoryBytes() > (64L << 30));
    }

    @Test
    void buffersRoundTripEveryHostType() {
        try (DeviceBuffer buffer = DeviceBuffer.allocate(4096)) {
            float[] f = randomFloats(1024, 1);
            buffer.copyFrom(f);
            float[] fBack = new float[1024];
            buffer.copyTo(fBack);
            assertArrayEquals(f, fBack);
            short[] s = {1, -2, 3, Short.MIN_VALUE};
            buffer.copyFrom(s);
            short[] sBack = new short[4];
            buffer.copyTo(sBack);
            assertArrayEquals(s, sBack);
            int[] i = {7, -8, Integer.MAX_VALUE};
            buffer.copyFrom(i);
            int[] iBack = new int[3];
            buffer.copyTo(iBack);
            assertArrayEquals(i, iBack);
            buffer.fill((byte) 0x5A);
            byte[] b = new byte[4096];
            buffer.copyTo(b);
            for (byte v : b) {
                assertEquals(0x5A, v);
            }
            buffer.fill32(Float.floatToRawIntBits(Float.NaN));
            buffer.copyTo(fBack);
            assertTrue(Float.isNaN(fBack[1023]));
            assertThrows(IllegalArgumentException.class, () -> buffer.copyFrom(new float[1025]));
        }
    }

    @Test
    void aKernelLaunchesTimesAndReplaysAsAGraph() {
        int n = 1 << 20;
        CudaKernel kernel = Kernels.scale(n);
        CompiledKernel compiled = nvrtc.compile(kernel, KernelCompiler.HOPPER, List.of());
        float[] x = randomFloats(n, 2);
        try (LoadedModule module = LoadedModule.load(compiled);
             DeviceBuffer buffer = DeviceBuffer.allocate(4L * n);
             CudaStream stream = CudaStream.create();
             CudaEvent start = CudaEvent.create();
             CudaEvent end = CudaEvent.create()) {
            KernelFunction function = module.function(kernel);
            buffer.copyFrom(x);
            List<KernelArg> args = List.of(buffer.arg(), new KernelArg.F32(2f));
            start.record(stream);
            KernelLauncher.launch(function, kernel, stream, args);
            end.record(stream);
            float millis = end.millisSince(start);
            assertTrue(millis > 0 && millis < 100, "kernel time " + millis + " ms");
            try (CudaGraph graph = CudaGraph.capture(stream, () -> {
                for (int i = 0; i < 3; i++) {
                    KernelLauncher.launch(function, kernel, stream, args);
                }
            })) {
                graph.launch(stream);
                graph.launch(stream);
            }
            stream.synchronize();
            float[] y = new float[n];
            buffer.copyTo(y);
            for (int i = 0; i < n; i++) {
                assertEquals(x[i] * 128f, y[i], 0f, "element " + i); // 2 ^ (1 + 3 + 3), exact in FP32
            }
        }
    }

    @Test
    void largeDynamicSharedMemoryIsAllowedOnRequest() {
        int shared = 200 * 1024;
        List<KernelParam> params = List.of(KernelParam.out("y", DType.F32));
        String body = """
                extern "C" __global__ void big_shared%s {
                    extern __shared__ float tile[];
                    for (int i = threadIdx.x; i < %d; i += blockDim.x) tile[i] = (float) i;
                    __syncthreads();
                    if (threadIdx.x == 0) y[blockIdx.x] = tile[%d];
                }
                """.formatted(CudaKernel.signature(params), shared / 4, shared / 4 - 1);
        CudaKernel kernel = new CudaKernel("big_shared", CudaPrelude.kernelSource("200 KB shared", body),
                LaunchGeometry.linear(4, 256, shared), params);
        try (LoadedModule module = LoadedModule.load(nvrtc.compile(kernel, KernelCompiler.HOPPER, List.of()));
             DeviceBuffer y = DeviceBuffer.allocate(16);
             CudaStream stream = CudaStream.create()) {
            CudaException refused = assertThrows(CudaException.class, () -> {
                KernelLauncher.launch(module.function("big_shared"), kernel, stream, List.of(y.arg()));
                stream.synchronize();
            });
            assertTrue(refused.getMessage().contains("big_shared"), refused.getMessage());
            KernelLauncher.launch(module.function(kernel), kernel, stream, List.of(y.arg()));
            stream.synchronize();
            float[] out = new float[4];
            y.copyTo(out);
            assertEquals(shared / 4 - 1, out[3]);
        }
    }

    @Test
    void clusterLaunchThroughForeignDriver() {
        List<KernelParam> params = List.of(KernelParam.out("rank", DType.I32));
        String body = """
                extern "C" __global__ void cluster_rank%s {
                    unsigned r;
                    asm volatile("mov.u32 %%0, %%%%cluster_ctarank;" : "=r"(r));
                    if (threadIdx.x == 0) rank[blockIdx.x] = (int) r;
                }
                """.formatted(CudaKernel.signature(params));
        CudaKernel kernel = new CudaKernel("cluster_rank", CudaPrelude.kernelSource("cluster rank per block", body),
                LaunchGeometry.linear(8, 32, 0), params);
        ForeignDriver driver = ForeignDriver.open();
        try (LoadedModule module = LoadedModule.load(nvrtc.compile(kernel, KernelCompiler.HOPPER, List.of()));
             DeviceBuffer rank = DeviceBuffer.allocate(32);
             CudaStream stream = CudaStream.create()) {
            driver.launchWithCluster(module.function(kernel), kernel, new ClusterShape(4, 1, 1), stream,
                    List.of(rank.arg()));
            stream.synchronize();
            int[] ranks = new int[8];
            rank.copyTo(ranks);
            assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 3}, ranks);
        }
    }

    @Test
    void tensorMapsEncodeThroughForeignDriver() {
        try (DeviceBuffer matrix = DeviceBuffer.allocate(1024 * 1024)) {
            TensorMap map = ForeignDriver.open().encodeTiled(TensorMapSpec.rowMajor(TensorMapSpec.DataType.UINT8,
                    matrix.address(), 1024, 1024, 64, 128, TensorMapSpec.Swizzle.B128));
            byte[] bytes = map.bytes();
            assertEquals(128, bytes.length);
            int nonZero = 0;
            for (byte b : bytes) {
                nonZero += b == 0 ? 0 : 1;
            }
            assertTrue(nonZero > 0);
        }
    }
}

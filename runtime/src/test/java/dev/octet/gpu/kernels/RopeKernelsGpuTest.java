package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.attention.DocumentPositionsKernel;
import dev.octet.compiler.cuda.attention.RopeKernel;
import dev.octet.compiler.cuda.attention.RopeKernel.Direction;
import dev.octet.compiler.cuda.attention.RopeKernel.Positions;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.PositionEmbedding;
import dev.octet.cpu.ops.Rope;
import dev.octet.cpu.ops.Rounding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RoPE forward and backward against {@code Rope}, positions in the sequence or in the document (from
 * {@code PositionEmbedding.documentPositions} over {@link PackedDocuments}), in place and out of place; and
 * the document positions kernel against {@code PositionEmbedding.documentPositions}, bit-exact.
 *
 * <p>RoPE bound: the angles and their sine and cosine are FP64 on both sides, the rotation FP32 on the device
 * with one rounding to BF16, so each output is within 1 BF16 ulp of the oracle's exact value; except where
 * {@code a·cos − b·sin} cancels towards 0 and the FP32 rounding (cos and sin to FP32, the products, the sum:
 * under 1.5·2^-23·(|a| + |b|)) is wider than a BF16 ulp of the result. There an output may instead lie
 * within 2^-21·(|a| + |b|) of the exact value. The input of an out-of-place launch must come back unchanged.
 */
@GpuKernelTest
class RopeKernelsGpuTest {
    private static final int MAX_ULPS = 1;
    /** Times |a| + |b| of the output's pair: above the FP32 rotation's own rounding. */
    private static final double CANCELLATION_SLACK = 0x1p-21;

    @ParameterizedTest(name = "{0} tokens {1} seq {2} heads {3} headDim {4} theta {5} {6} in place {7}")
    @CsvSource({
            "FORWARD, 512, 128, 4, 64, 10000, IN_SEQUENCE, false", // the tiny model's q
            "FORWARD, 512, 128, 2, 64, 10000, IN_DOCUMENT, true", // the tiny model's k, packed documents
            "BACKWARD, 512, 128, 4, 64, 10000, IN_SEQUENCE, true",
            "BACKWARD, 512, 128, 2, 64, 10000, IN_DOCUMENT, false",
            "FORWARD, 2048, 1024, 32, 64, 500000, IN_DOCUMENT, false", // Llama 3.2 1B's q
            "BACKWARD, 2048, 1024, 8, 64, 500000, IN_SEQUENCE, false",
            "FORWARD, 4096, 4096, 2, 128, 1000000, IN_SEQUENCE, true", // Qwen 2.5's k: positions up to 4095
            "BACKWARD, 4096, 4096, 12, 128, 1000000, IN_DOCUMENT, true"})
    void ropeMatchesOracle(Direction direction, int tokens, int seq, int heads, int headDim, double theta,
                           Positions positions, boolean inPlace) {
        int n = tokens * heads * headDim, batch = tokens / seq;
        RandomTensors random = new RandomTensors(111);
        float[] x = random.bf16Gaussian(n, direction == Direction.FORWARD ? RandomTensors.ACTIVATION_STD
                : RandomTensors.GRADIENT_STD);
        int[] position = positions == Positions.IN_DOCUMENT
                ? PositionEmbedding.documentPositions(PackedDocuments.ids(random, batch, seq), batch, seq)
                : PositionEmbedding.sequentialPositions(batch, seq);
        RopeKernel spec = new RopeKernel(direction, tokens, seq, heads, headDim, theta, positions, inPlace);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("x", HostArray.bf16(x));
            if (positions == Positions.IN_DOCUMENT) {
                ws.input("positions", HostArray.i32(position));
            }
            if (!inPlace) {
                ws.output("out", DType.BF16, n);
            }
            ws.launch(spec.emit());

            double[] exact = new double[n];
            if (direction == Direction.FORWARD) {
                Rope.forward(exact, Numbers.toDouble(x), position, tokens, heads, headDim, theta, Rounding.EXACT);
            } else {
                Rope.backward(exact, Numbers.toDouble(x), position, tokens, heads, headDim, theta, Rounding.EXACT);
            }
            String result = inPlace ? "x" : "out";
            Accuracy.bf16Ulps(spec.kernelName() + " " + result, ws.bf16Bits(result), exact, MAX_ULPS,
                    cancellationSlack(x, headDim));
            if (!inPlace) {
                Accuracy.bitExact(spec.kernelName() + " x unchanged", ws.bf16Bits("x"), Numbers.bf16Bits(Numbers.toDouble(x)));
            }
        }
    }

    @ParameterizedTest(name = "llama3-scaled {0} tokens {1} seq heads {2}")
    @CsvSource({"2048, 1024, 32", "4096, 4096, 8"}) // Llama 3.2 1B's q (packed) and k: positions up to 4095
    void llama3ScaledRopeMatchesOracle(int tokens, int seq, int heads) {
        int headDim = 64;
        int n = tokens * heads * headDim;
        var scaling = java.util.Optional.of(new dev.octet.dsl.spec.RopeScaling(32, 1, 4, 8192));
        RandomTensors random = new RandomTensors(113);
        float[] x = random.bf16Gaussian(n, RandomTensors.ACTIVATION_STD);
        int[] position = PositionEmbedding.documentPositions(PackedDocuments.ids(random, tokens / seq, seq), tokens / seq, seq);
        RopeKernel spec = new RopeKernel(Direction.FORWARD, tokens, seq, heads, headDim, 500_000, Positions.IN_DOCUMENT,
                false, scaling);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("x", HostArray.bf16(x)).input("positions", HostArray.i32(position)).output("out", DType.BF16, n)
                    .launch(spec.emit());
            double[] exact = new double[n];
            Rope.forward(exact, Numbers.toDouble(x), position, tokens, heads, headDim,
                    dev.octet.dsl.spec.ModelConfig.ropeInverseFrequencies(500_000, headDim, scaling), Rounding.EXACT);
            Accuracy.bf16Ulps(spec.kernelName() + " out", ws.bf16Bits("out"), exact, MAX_ULPS, cancellationSlack(x, headDim));
        }
    }

    /** {@code CANCELLATION_SLACK·(|a| + |b|)} for both elements of every rotated pair (i, i + headDim/2). */
    private static double[] cancellationSlack(float[] x, int headDim) {
        int half = headDim / 2;
        double[] slack = new double[x.length];
        for (int row = 0; row < x.length; row += headDim) {
            for (int i = 0; i < half; i++) {
                double s = CANCELLATION_SLACK * (Math.abs(x[row + i]) + Math.abs(x[row + i + half]));
                slack[row + i] = s;
                slack[row + i + half] = s;
            }
        }
        return slack;
    }

    @ParameterizedTest(name = "document positions tokens {0} seq {1}")
    @CsvSource({
            "512, 128", // the tiny model
            "1280, 320", // a sequence that ends inside the kernel's second 256-token chunk
            "2048, 1024",
            "16384, 4096"}) // documents running through whole chunks without a start
    void documentPositionsMatchOracle(int tokens, int seq) {
        int batch = tokens / seq;
        int[] ids = PackedDocuments.ids(new RandomTensors(112), batch, seq);
        DocumentPositionsKernel spec = new DocumentPositionsKernel(tokens, seq);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("document_ids", HostArray.i32(ids)).output("positions", DType.I32, tokens).launch(spec.emit());
            Accuracy.bitExact(spec.kernelName() + " positions", ws.i32("positions"),
                    PositionEmbedding.documentPositions(ids, batch, seq));
        }
    }
}

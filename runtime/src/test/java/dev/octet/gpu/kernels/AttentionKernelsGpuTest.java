package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.attention.AttentionKernels;
import dev.octet.compiler.cuda.attention.AttentionShape;
import dev.octet.compiler.cuda.attention.FlashAttentionBackward;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardKeyValueHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionBackwardQueryHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionForward;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper;
import dev.octet.compiler.cuda.attention.FlashAttentionForwardHopper.Schedule;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.Attention;
import dev.octet.cpu.ops.Rounding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Causal flash attention forward (o, lse) and backward (delta, dq, dk, dv) against {@code Attention}: every
 * combination of grouped-query (4 heads sharing 2 kv heads) or multi-head, headDim 64 or 128, sequences of 128
 * or 256 (batch 2), with and without a document mask ({@link PackedDocuments}), plus the tiny model's shape.
 * q, k, v ~ N(0, 1) (scores ~ N(0, 1) after the 1/√headDim scale), dout ~ N(0, 1e-3).
 *
 * <p>Bounds. lse and delta are FP32 sums of exact BF16 products against the oracle's float64: relative L2
 * within 1e-5. o, dq, dk, dv: the kernels round p to BF16 before {@code p·v} and {@code pᵀ·dout}, and ds
 * before {@code ds·k} and {@code dsᵀ·q}, where the oracle does not: up to 2^-9 relative per term, random in
 * sign, plus one BF16 rounding of the output on each side. Those roundings, applied to the oracle in float64,
 * move o by 1.2–1.9e-3 and dq, dk, dv by 1.8–2.7e-3 (relative L2) at three of these shapes: bound 1e-2.
 * The backward is fed the oracle's forward (o rounded to BF16, lse to FP32), the same numbers on both sides,
 * so it is checked apart from the forward. No atomics: a second backward gives the same bits.
 *
 * <p>The Hopper forward ({@link FlashAttentionForwardHopper}, wgmma + TMA, 128-query tiles) is held to the same
 * bounds at the same shapes and at sequences that are not a multiple of its tile (192, 320, 1088: the last
 * query tile half outside the sequence, k and v boxes reaching into the next sequence or past the last token),
 * with enough key tiles (1088 = 8.5 tiles) to wrap its ring of stages, with a Qwen2.5-like 12 query heads on
 * 2 kv heads, and in each of its schedules (serial, overlapped, ping-pong). A second launch must give the same bits.
 *
 * <p>The backward on the Hopper kernels ({@link FlashAttentionBackwardKeyValueHopper}: 64-key blocks whose two
 * consumers take 64-query steps in turn and add their partial sums; {@link FlashAttentionBackwardQueryHopper}:
 * 128-query tiles, 64-key steps) is held to the same bounds at the same shapes and at sequences that are not a
 * multiple of 128 (192, 320, 1088: the last query tile of dq half outside the sequence; an odd number of query
 * tiles per head for dk, dv), with 12 query heads on 2 kv heads (1088: enough tiles per head and heads per
 * block to wrap their rings many times), headDim 64 and 128, with and without documents; a second backward
 * must give the same bits.
 */
@GpuKernelTest
class AttentionKernelsGpuTest {
    private static final double LSE_BOUND = 1e-5;
    private static final double DELTA_BOUND = 1e-5;
    private static final double OUTPUT_BOUND = 1e-2;
    private static final double GRADIENT_BOUND = 1e-2;

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (int seq : new int[] {128, 256}) {
            for (int headDim : new int[] {64, 128}) {
                for (int kvHeads : new int[] {2, 4}) {
                    for (boolean documents : new boolean[] {false, true}) {
                        AttentionShape shape = new AttentionShape(2, seq, 4, kvHeads, headDim, documents);
                        cases.add(arguments(shape.suffix(), shape));
                    }
                }
            }
        }
        for (boolean documents : new boolean[] {false, true}) { // the tiny model
            AttentionShape shape = new AttentionShape(4, 128, 4, 2, 64, documents);
            cases.add(arguments("tiny " + shape.suffix(), shape));
        }
        return cases.stream();
    }

    static Stream<Arguments> hopperCases() {
        List<AttentionShape> shapes = new ArrayList<>(shapes().map(a -> (AttentionShape) a.get()[1]).toList());
        List<AttentionShape> ragged = List.of(
                new AttentionShape(2, 192, 4, 2, 64, false),
                new AttentionShape(3, 320, 4, 2, 128, false),
                new AttentionShape(3, 320, 4, 4, 64, true),
                new AttentionShape(1, 1088, 12, 2, 128, false),
                new AttentionShape(4, 1088, 4, 2, 128, true),
                new AttentionShape(4, 1088, 8, 2, 64, true));
        shapes.addAll(ragged);
        List<Arguments> cases = new ArrayList<>();
        for (AttentionShape shape : shapes) {
            FlashAttentionForwardHopper overlapped = FlashAttentionForwardHopper.of(shape);
            cases.add(arguments(overlapped.kernelName(), shape, overlapped));
        }
        for (AttentionShape shape : ragged) {
            for (FlashAttentionForwardHopper spec : List.of(new FlashAttentionForwardHopper(shape, 2, Schedule.SERIAL),
                    FlashAttentionForwardHopper.of(shape, Schedule.PINGPONG))) {
                cases.add(arguments(spec.kernelName(), shape, spec));
            }
        }
        return cases.stream();
    }

    /** Host inputs, BF16 values as floats; without a document mask every sequence is one document (id 0). */
    private record Inputs(float[] q, float[] k, float[] v, float[] dout, int[] documentIds) {
        static Inputs draw(AttentionShape shape, long seed) {
            RandomTensors random = new RandomTensors(seed);
            int t = shape.tokens(), qn = t * shape.heads() * shape.headDim(), kvn = t * shape.kvHeads() * shape.headDim();
            float[] q = random.bf16Gaussian(qn, RandomTensors.ACTIVATION_STD);
            float[] k = random.bf16Gaussian(kvn, RandomTensors.ACTIVATION_STD);
            float[] v = random.bf16Gaussian(kvn, RandomTensors.ACTIVATION_STD);
            float[] dout = random.bf16Gaussian(qn, RandomTensors.GRADIENT_STD);
            int[] ids = shape.documentMask() ? PackedDocuments.ids(random, shape.batch(), shape.seq()) : new int[t];
            return new Inputs(q, k, v, dout, ids);
        }

        void upload(DeviceWorkspace ws, AttentionShape shape) {
            ws.input("q", HostArray.bf16(q)).input("k", HostArray.bf16(k)).input("v", HostArray.bf16(v));
            if (shape.documentMask()) {
                ws.input("document_ids", HostArray.i32(documentIds));
            }
        }
    }

    /** The oracle's forward: o rounded to BF16, lse unrounded in the oracle's [T, heads] layout. */
    private record Forward(double[] o, double[] lse) {
        static Forward of(AttentionShape shape, Inputs in) {
            double[] o = new double[in.q().length], lse = new double[shape.tokens() * shape.heads()];
            Attention.forward(o, lse, Numbers.toDouble(in.q()), Numbers.toDouble(in.k()), Numbers.toDouble(in.v()),
                    in.documentIds(), shape.batch(), shape.seq(), shape.heads(), shape.kvHeads(), shape.headDim(),
                    Rounding.GPU);
            return new Forward(o, lse);
        }
    }

    @ParameterizedTest(name = "forward {0}")
    @MethodSource("shapes")
    void forwardMatchesOracle(String name, AttentionShape shape) {
        Inputs in = Inputs.draw(shape, 91);
        FlashAttentionForward spec = new FlashAttentionForward(shape);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            in.upload(ws, shape);
            ws.output("o", DType.BF16, in.q().length).output("lse", DType.F32, shape.tokens() * shape.heads())
                    .launch(spec.emit());

            Forward want = Forward.of(shape, in);
            Accuracy.relativeL2(spec.kernelName() + " o", ws.bf16("o"), want.o(), OUTPUT_BOUND);
            Accuracy.relativeL2(spec.kernelName() + " lse", ws.f32("lse"), lseByHead(want.lse(), shape), LSE_BOUND);
        }
    }

    @ParameterizedTest(name = "hopper forward {0}")
    @MethodSource("hopperCases")
    void hopperForwardMatchesOracleAndRepeatsBitForBit(String name, AttentionShape shape, FlashAttentionForwardHopper spec) {
        Inputs in = Inputs.draw(shape, 93);
        CudaKernel kernel = spec.emit();
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            in.upload(ws, shape);
            ws.output("o", DType.BF16, in.q().length).output("lse", DType.F32, shape.tokens() * shape.heads())
                    .launch(kernel);

            Forward want = Forward.of(shape, in);
            short[] oBits = ws.bf16Bits("o");
            float[] lse = ws.f32("lse");
            Accuracy.relativeL2(kernel.name() + " o", Numbers.bf16ToFloat(oBits), want.o(), OUTPUT_BOUND);
            Accuracy.relativeL2(kernel.name() + " lse", lse, lseByHead(want.lse(), shape), LSE_BOUND);

            ws.poison("o").poison("lse").launch(kernel);
            Accuracy.bitExact(kernel.name() + " rerun o", ws.bf16Bits("o"), oBits);
            Accuracy.bitExact(kernel.name() + " rerun lse", ws.f32("lse"), lse);
        }
    }

    @ParameterizedTest(name = "backward {0}")
    @MethodSource("shapes")
    void backwardMatchesOracleAndRepeatsBitForBit(String name, AttentionShape shape) {
        backwardMatchesOracleAndRepeatsBitForBit(shape, new FlashAttentionBackward(shape));
    }

    static Stream<Arguments> hopperBackwardCases() {
        List<AttentionShape> shapes = new ArrayList<>(shapes().map(a -> (AttentionShape) a.get()[1]).toList());
        shapes.addAll(List.of(
                new AttentionShape(2, 192, 4, 2, 64, false),
                new AttentionShape(3, 320, 4, 2, 128, false),
                new AttentionShape(3, 320, 4, 4, 64, true),
                new AttentionShape(1, 1088, 12, 2, 128, false),
                new AttentionShape(2, 1088, 12, 2, 64, true),
                new AttentionShape(4, 1088, 4, 2, 128, true)));
        return shapes.stream().map(shape -> {
            FlashAttentionBackward backward = AttentionKernels.backward(shape, true);
            return arguments(backward.keyValue().kernelName() + " + " + backward.query().kernelName(), shape, backward);
        });
    }

    @ParameterizedTest(name = "hopper backward {0}")
    @MethodSource("hopperBackwardCases")
    void hopperBackwardMatchesOracleAndRepeatsBitForBit(String name, AttentionShape shape, FlashAttentionBackward backward) {
        assertInstanceOf(FlashAttentionBackwardKeyValueHopper.class, backward.keyValue());
        assertInstanceOf(FlashAttentionBackwardQueryHopper.class, backward.query());
        backwardMatchesOracleAndRepeatsBitForBit(shape, backward);
    }

    private static void backwardMatchesOracleAndRepeatsBitForBit(AttentionShape shape, FlashAttentionBackward backward) {
        Inputs in = Inputs.draw(shape, 92);
        Forward forward = Forward.of(shape, in);
        // What the forward kernel saves: o in BF16 (the oracle's o is rounded already), lse in FP32.
        float[] o = Numbers.toFloat(forward.o());
        float[] lseByToken = Numbers.toFloat(forward.lse());
        double[] lseUsed = Numbers.toDouble(lseByToken);
        String rerun = "attention backward " + shape.suffix() + " rerun";
        int qn = in.q().length, kvn = in.k().length, rows = shape.tokens() * shape.heads();
        List<CudaKernel> kernels = backward.kernels();
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            in.upload(ws, shape);
            ws.input("dout", HostArray.bf16(in.dout())).input("o", HostArray.bf16(o))
                    .input("lse", HostArray.f32(Numbers.toFloat(lseByHead(lseUsed, shape))))
                    .output("delta", DType.F32, rows)
                    .output("dq", DType.BF16, qn).output("dk", DType.BF16, kvn).output("dv", DType.BF16, kvn);
            for (CudaKernel kernel : kernels) {
                ws.launch(kernel);
            }

            double[] dq = new double[qn], dk = new double[kvn], dv = new double[kvn];
            Attention.backward(dq, dk, dv, Numbers.toDouble(in.dout()), Numbers.toDouble(in.q()), Numbers.toDouble(in.k()),
                    Numbers.toDouble(in.v()), forward.o(), lseUsed, in.documentIds(), shape.batch(), shape.seq(),
                    shape.heads(), shape.kvHeads(), shape.headDim(), Rounding.GPU);
            Accuracy.relativeL2(backward.delta().kernelName() + " delta", ws.f32("delta"),
                    lseByHead(delta(in.dout(), o, shape), shape), DELTA_BOUND);
            short[] dqBits = ws.bf16Bits("dq"), dkBits = ws.bf16Bits("dk"), dvBits = ws.bf16Bits("dv");
            Accuracy.relativeL2(backward.query().kernelName() + " dq", Numbers.bf16ToFloat(dqBits), dq, GRADIENT_BOUND);
            Accuracy.relativeL2(backward.keyValue().kernelName() + " dk", Numbers.bf16ToFloat(dkBits), dk, GRADIENT_BOUND);
            Accuracy.relativeL2(backward.keyValue().kernelName() + " dv", Numbers.bf16ToFloat(dvBits), dv, GRADIENT_BOUND);

            ws.poison("delta").poison("dq").poison("dk").poison("dv");
            for (CudaKernel kernel : kernels) {
                ws.launch(kernel);
            }
            Accuracy.bitExact(rerun + " dq", ws.bf16Bits("dq"), dqBits);
            Accuracy.bitExact(rerun + " dk", ws.bf16Bits("dk"), dkBits);
            Accuracy.bitExact(rerun + " dv", ws.bf16Bits("dv"), dvBits);
        }
    }

    /** {@code Σ_d dout∘o} per (token, head) in float64, in the oracle's [T, heads] layout. */
    private static double[] delta(float[] dout, float[] o, AttentionShape shape) {
        int rows = shape.tokens() * shape.heads(), d = shape.headDim();
        double[] delta = new double[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = 0; i < d; i++) {
                sum += (double) dout[r * d + i] * o[r * d + i];
            }
            delta[r] = sum;
        }
        return delta;
    }

    /** The oracle's [T = batch·seq, heads] layout to the kernels' [batch, heads, seq]. */
    static double[] lseByHead(double[] byToken, AttentionShape shape) {
        int seq = shape.seq(), heads = shape.heads();
        double[] byHead = new double[byToken.length];
        for (int b = 0; b < shape.batch(); b++) {
            for (int s = 0; s < seq; s++) {
                for (int h = 0; h < heads; h++) {
                    byHead[(b * heads + h) * seq + s] = byToken[(b * seq + s) * heads + h];
                }
            }
        }
        return byHead;
    }
}

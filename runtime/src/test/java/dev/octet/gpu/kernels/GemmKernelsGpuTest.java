package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.gemm.Bf16WgmmaGemm;
import dev.octet.compiler.cuda.gemm.Fp8WgmmaGemm;
import dev.octet.compiler.cuda.gemm.GemmEpilogue;
import dev.octet.compiler.cuda.gemm.GemmKernel;
import dev.octet.compiler.cuda.gemm.GemmKernels;
import dev.octet.compiler.cuda.gemm.GemmOperand;
import dev.octet.compiler.cuda.gemm.GemmProblem;
import dev.octet.compiler.cuda.gemm.OperandLayout;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.Linear;
import dev.octet.cpu.ops.Rounding;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Bf16;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Fp8Gemm;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import dev.octet.numerics.ScaleType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * GEMMs {@code C[M,N] = A[M,K]·B[N,K]ᵀ} + epilogue. FP8 against {@code Fp8Gemm.multiply} of the same quantized
 * operands (the products are exact, so only the order of FP32 additions inside a promotion chunk differs, plus
 * the tensor core's narrower internal accumulation, ~2^-13 relative per chunk sum on Hopper), then the
 * epilogue in FP32 exactly as {@code GemmEpilogue} specifies it. BF16 against {@code Linear} in double.
 * A BF16 output adds one rounding on each side: the two may land one BF16 ulp (2^-8 relative) apart.
 */
@GpuKernelTest
class GemmKernelsGpuTest {
    private static final double FP8_F32_BOUND = 1e-3;
    private static final double BF16_F32_BOUND = 1e-5;
    /** Most elements round alike; one ulp apart is 2^-8 relative at most. */
    private static final double BF16_OUTPUT_BOUND = 0x1p-8;

    enum Role {
        ACTIVATION(RandomTensors.ACTIVATION_STD), WEIGHT(RandomTensors.WEIGHT_STD), GRADIENT(RandomTensors.GRADIENT_STD);

        final double std;

        Role(double std) {
            this.std = std;
        }
    }

    /**
     * One FP8 GEMM operand: how it is quantized, what it holds, and whether a fused transpose wrote it (the weight
     * gradient's, whose group scales then lie column-major: ScaleGrid.ofOperand).
     */
    record Fp8Operand(Fp8Format format, Granularity granularity, Role role, boolean transposed) {
        Fp8Operand(Fp8Format format, Granularity granularity, Role role) {
            this(format, granularity, role, false);
        }

        /** The same operand as a fused transpose writes it. */
        Fp8Operand ofTranspose() {
            return new Fp8Operand(format, granularity, role, true);
        }

        GemmOperand.Fp8 operand() {
            return new GemmOperand.Fp8(format, granularity, transposed);
        }

        @Override
        public String toString() {
            return role.name().toLowerCase(java.util.Locale.ROOT) + " " + format.lowerName() + " " + granularity.describe()
                    + (transposed ? " transposed" : "");
        }
    }

    static Stream<Arguments> fp8Cases() {
        Fp8Operand x = new Fp8Operand(Fp8Format.E4M3, Granularity.group(128), Role.ACTIVATION);
        Fp8Operand w = new Fp8Operand(Fp8Format.E4M3, Granularity.block(128), Role.WEIGHT);
        Fp8Operand dy = new Fp8Operand(Fp8Format.E4M3, Granularity.group(128), Role.GRADIENT);
        Fp8Operand dy5 = new Fp8Operand(Fp8Format.E5M2, Granularity.group(128), Role.GRADIENT);
        GemmEpilogue bf16 = GemmEpilogue.store(DType.BF16);
        return Stream.of(
                // fprop Y[T, out] = X[T, in]·W[out, in]ᵀ, T=256, in=384, out=256; then with bias and residual
                arguments("fprop", 256, 256, 384, x, w, bf16),
                arguments("fprop", 256, 256, 384, x, w, GemmEpilogue.store(DType.F32).withBias()),
                arguments("fprop", 256, 384, 128, x, w, bf16.withBias().withResidual()),
                // a bias over ragged M and N (TMA stores a last column tile of 72 columns; its bias past N is zero), and
                // over several tiles a block
                arguments("fprop ragged bias", 300, 200, 384, x, w, bf16.withBias()),
                arguments("fprop bias persistent", 1040, 2560, 256, x, w, bf16.withBias()),
                // dgrad dX[T, in] = dY[T, out]·(Wᵀ)[in, out]ᵀ, E5M2 gradients, into the residual stream's gradient
                arguments("dgrad", 256, 384, 256, dy5, w, bf16.withResidual()),
                // wgrad dW[out, in] += dYᵀ[out, T]·Xᵀ[in, T]ᵀ, both grouped along T, accumulated in FP32: as the step
                // runs it (both operands from fused transposes, scales column-major) and with row-major scales
                arguments("wgrad", 256, 384, 512, dy.ofTranspose(), x.ofTranspose(), GemmEpilogue.accumulateF32()),
                arguments("wgrad row-major scales", 256, 384, 512, dy, x, GemmEpilogue.accumulateF32()),
                // ragged M and N (partial tiles), tensor-wise and row-wise scales, groups of 64
                arguments("fprop ragged", 200, 300, 384, new Fp8Operand(Fp8Format.E4M3, Granularity.tensor(), Role.ACTIVATION),
                        new Fp8Operand(Fp8Format.E4M3, Granularity.channel(), Role.WEIGHT), bf16),
                arguments("fprop groups of 64", 256, 128, 256, new Fp8Operand(Fp8Format.E4M3, Granularity.group(64), Role.ACTIVATION),
                        new Fp8Operand(Fp8Format.E4M3, Granularity.block(64), Role.WEIGHT), GemmEpilogue.store(DType.F32)),
                // more tiles than SMs (the persistent loop's second round, the ring's phases wrapping), a last
                // K block holding one 32-wide chunk; wgrad with per-column B scales over many tiles
                arguments("fprop persistent", 1040, 2560, 416, x, w, bf16.withResidual()),
                arguments("wgrad persistent", 640, 2200, 1024, dy.ofTranspose(), x.ofTranspose(), GemmEpilogue.accumulateF32()),
                // a decoding step: a few tokens (M = 4 slots, M = 1), the rest of the row tile past the edge
                arguments("decode q fprop", 4, 256, 128, x, w, bf16),
                arguments("decode ffn down fprop", 4, 128, 384, x, w, bf16.withResidual()),
                arguments("decode one token", 1, 384, 128, x, w, GemmEpilogue.store(DType.F32)),
                // the tiny model (T=512, dim 128, q 256, ffn 384): q projection, ffn down, dgrad of ffn up, wgrad of q
                arguments("tiny q fprop", 512, 256, 128, x, w, bf16),
                arguments("tiny ffn down fprop", 512, 128, 384, x, w, bf16.withResidual()),
                arguments("tiny ffn up dgrad", 512, 128, 384, dy, w, bf16),
                arguments("tiny q wgrad", 256, 128, 512, dy.ofTranspose(), x.ofTranspose(), GemmEpilogue.accumulateF32()));
    }

    /**
     * Every case with the kernel GemmKernels picks (cluster 1) and in clusters of two blocks sharing A by TMA
     * multicast, including odd numbers of column tiles (the second block of the last pair computes past N and
     * stores nothing) and one-tile problems.
     */
    static Stream<Arguments> fp8Variants() {
        return fp8Cases().flatMap(c -> Stream.of(1, 2).map(cluster -> {
            Object[] args = java.util.Arrays.copyOf(c.get(), c.get().length + 1);
            args[args.length - 1] = cluster;
            return Arguments.of(args);
        }));
    }

    @ParameterizedTest(name = "cluster {7}: {0} M={1} N={2} K={3} A: {4}, B: {5}, {6}")
    @MethodSource("fp8Variants")
    void fp8GemmMatchesFp8GemmOracle(String role, int m, int n, int k, Fp8Operand aSpec, Fp8Operand bSpec,
                                     GemmEpilogue epilogue, int cluster) {
        GemmProblem problem = GemmProblem.fp8(m, n, k, aSpec.operand(), bSpec.operand(), epilogue);
        checkFp8(role, problem, aSpec, bSpec, cluster == 1 ? GemmKernels.forProblem(problem)
                : Fp8WgmmaGemm.withTiles(problem, problem.n() <= 64 ? 64 : 128, cluster));
    }

    /**
     * Weight gradients with K split (each K range's sums into its slice of the partials, then added to dW in order):
     * ranges of unequal length (10 K blocks in 3), ragged M and N with per-column B scales, many tiles, groups of 64
     * along the tokens; and a rerun from the same dW is bit-identical.
     */
    @ParameterizedTest(name = "wgrad M={0} N={1} K={2} split {3} ways, groups of {4}")
    @CsvSource({"256, 384, 1280, 3, 128", "300, 200, 1024, 2, 128", "640, 2200, 1024, 4, 128", "128, 256, 1536, 4, 64"})
    void fp8WgradWithSplitKMatchesFp8GemmOracle(int m, int n, int k, int splits, int group) {
        Fp8Operand dy = new Fp8Operand(Fp8Format.E4M3, Granularity.group(group), Role.GRADIENT, true);
        Fp8Operand x = new Fp8Operand(Fp8Format.E4M3, Granularity.group(group), Role.ACTIVATION, true);
        GemmProblem problem = GemmProblem.fp8(m, n, k, dy.operand(), x.operand(), GemmEpilogue.accumulateF32());
        Fp8WgmmaGemm kernel = Fp8WgmmaGemm.of(problem).withSplits(splits);
        checkFp8("wgrad split " + splits, problem, dy, x, kernel);
    }

    private static void checkFp8(String role, GemmProblem problem, Fp8Operand aSpec, Fp8Operand bSpec, KernelSpec spec) {
        int m = problem.m(), n = problem.n(), k = problem.k();
        GemmEpilogue epilogue = problem.epilogue();
        RandomTensors random = new RandomTensors(41);
        QuantizedMatrix a = Quantizer.quantize(random.gaussian(m * k, aSpec.role().std), m, k, aSpec.granularity(),
                Axis.COLS, aSpec.format(), ScaleType.UE8M0);
        QuantizedMatrix b = Quantizer.quantize(random.gaussian(n * k, bSpec.role().std), n, k, bSpec.granularity(),
                Axis.COLS, bSpec.format(), ScaleType.UE8M0);
        float[] acc = Fp8Gemm.multiply(a, b);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("a", HostArray.fp8(DType.of(aSpec.format()), a.codes()))
                    .input("a_scales", HostArray.f32(aSpec.operand().scaleGrid(m, k).stored(a.scales())))
                    .input("b", HostArray.fp8(DType.of(bSpec.format()), b.codes()))
                    .input("b_scales", HostArray.f32(bSpec.operand().scaleGrid(n, k).stored(b.scales())));
            double[] want = runEpilogue(ws, random, epilogue, m, n, acc, spec);
            compare(ws, spec.kernelName() + " (" + role + ")", epilogue, want, FP8_F32_BOUND);
        }
    }

    static Stream<Arguments> bf16Cases() {
        OperandLayout kMajor = OperandLayout.K_MAJOR, mnMajor = OperandLayout.MN_MAJOR;
        GemmEpilogue bf16 = GemmEpilogue.store(DType.BF16);
        return Stream.of(
                // fprop: X and W as stored ([T, in], [out, in]): both K-major
                arguments("fprop", 256, 384, 128, kMajor, Role.ACTIVATION, kMajor, Role.WEIGHT, bf16.withBias()),
                arguments("fprop", 256, 256, 384, kMajor, Role.ACTIVATION, kMajor, Role.WEIGHT, GemmEpilogue.store(DType.F32).withResidual()),
                // dgrad: dX = dY·W reads W [out, in] as [K, N]: MN-major
                arguments("dgrad", 256, 384, 256, kMajor, Role.GRADIENT, mnMajor, Role.WEIGHT, bf16.withResidual()),
                // wgrad: dW += dYᵀ·X reads dY [T, out] and X [T, in] as [K, M] and [K, N]: both MN-major
                arguments("wgrad", 256, 384, 256, mnMajor, Role.GRADIENT, mnMajor, Role.ACTIVATION, GemmEpilogue.accumulateF32()),
                arguments("wgrad ragged", 300, 200, 256, mnMajor, Role.GRADIENT, mnMajor, Role.ACTIVATION,
                        GemmEpilogue.accumulateF32().withBias()),
                // the tiny model's LM head (tied embedding E[4096, 128]): fprop logits, dgrad, wgrad into dE
                arguments("tiny lm head fprop", 512, 4096, 128, kMajor, Role.ACTIVATION, kMajor, Role.WEIGHT, bf16),
                arguments("tiny lm head dgrad", 512, 128, 4096, kMajor, Role.GRADIENT, mnMajor, Role.WEIGHT, bf16.withResidual()),
                arguments("tiny lm head wgrad", 4096, 128, 512, mnMajor, Role.GRADIENT, mnMajor, Role.ACTIVATION,
                        GemmEpilogue.accumulateF32()),
                // Ragged tiles on wgmma (contiguous extents multiples of 8, the rest not): a partial last K block,
                // partial row and column tiles, and MN-major panels that lie partly or wholly past the edge.
                arguments("fprop ragged", 300, 200, 136, kMajor, Role.ACTIVATION, kMajor, Role.WEIGHT, bf16.withBias()),
                arguments("dgrad ragged", 300, 136, 200, kMajor, Role.GRADIENT, mnMajor, Role.WEIGHT, bf16.withResidual()),
                arguments("wgrad ragged wgmma", 136, 200, 301, mnMajor, Role.GRADIENT, mnMajor, Role.ACTIVATION,
                        GemmEpilogue.accumulateF32()),
                arguments("fprop A MN-major", 264, 72, 96, mnMajor, Role.ACTIVATION, kMajor, Role.WEIGHT,
                        GemmEpilogue.store(DType.F32)),
                // An odd N: the epilogue stores column by column (wgmma, and mma.sync where B is MN-major).
                arguments("fprop odd N", 200, 75, 136, kMajor, Role.ACTIVATION, kMajor, Role.WEIGHT,
                        bf16.withBias().withResidual()),
                arguments("dgrad odd N", 200, 75, 136, kMajor, Role.GRADIENT, mnMajor, Role.WEIGHT,
                        GemmEpilogue.accumulateF32().withBias()),
                // Enough tiles for 128 x 256 ones, with a ragged last column tile and more tiles than SMs.
                arguments("lm head fprop wide tiles", 4224, 1032, 136, kMajor, Role.ACTIVATION, kMajor, Role.WEIGHT, bf16),
                arguments("lm head dgrad, many tiles", 4224, 520, 264, kMajor, Role.GRADIENT, mnMajor, Role.WEIGHT, bf16));
    }

    @ParameterizedTest(name = "{0} M={1} N={2} K={3} A {4} {5}, B {6} {7}, {8}")
    @MethodSource("bf16Cases")
    void bf16GemmMatchesLinear(String role, int m, int n, int k, OperandLayout aLayout, Role aRole,
                               OperandLayout bLayout, Role bRole, GemmEpilogue epilogue) {
        GemmProblem problem = GemmProblem.bf16(m, n, k, aLayout, bLayout, epilogue);
        KernelSpec spec = GemmKernels.forProblem(problem);
        RandomTensors random = new RandomTensors(42);
        float[] a = random.bf16Gaussian(m * k, aRole.std), b = random.bf16Gaussian(n * k, bRole.std); // [M,K], [N,K]
        double[] exact = new double[m * n];
        Linear.forward(exact, Numbers.toDouble(a), Numbers.toDouble(b), m, k, n, Rounding.EXACT);
        float[] acc = Numbers.toFloat(exact); // the FP32 accumulator's value, as near as FP32 holds it
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("a", HostArray.bf16(aLayout == OperandLayout.K_MAJOR ? a : Numbers.transpose(a, m, k)))
                    .input("b", HostArray.bf16(bLayout == OperandLayout.K_MAJOR ? b : Numbers.transpose(b, n, k)));
            double[] want = runEpilogue(ws, random, epilogue, m, n, acc, spec);
            compare(ws, spec.kernelName() + " (" + role + ")", epilogue, want, BF16_F32_BOUND);
        }
    }

    /**
     * BF16 weight gradients (both operands MN-major, so M and N multiples of 8 for TMA) with K split, ranges of
     * unequal length and ragged tiles.
     */
    @ParameterizedTest(name = "bf16 wgrad M={0} N={1} K={2} split {3} ways")
    @CsvSource({"256, 384, 1280, 3", "296, 200, 1024, 2", "136, 264, 2048, 7"})
    void bf16WgradWithSplitKMatchesLinear(int m, int n, int k, int splits) {
        GemmProblem problem = GemmProblem.bf16(m, n, k, OperandLayout.MN_MAJOR, OperandLayout.MN_MAJOR,
                GemmEpilogue.accumulateF32());
        KernelSpec spec = Bf16WgmmaGemm.of(problem).withSplits(splits);
        RandomTensors random = new RandomTensors(43);
        float[] a = random.bf16Gaussian(m * k, Role.GRADIENT.std), b = random.bf16Gaussian(n * k, Role.ACTIVATION.std);
        double[] exact = new double[m * n];
        Linear.forward(exact, Numbers.toDouble(a), Numbers.toDouble(b), m, k, n, Rounding.EXACT);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("a", HostArray.bf16(Numbers.transpose(a, m, k))).input("b", HostArray.bf16(Numbers.transpose(b, n, k)));
            double[] want = runEpilogue(ws, random, GemmEpilogue.accumulateF32(), m, n, Numbers.toFloat(exact), spec);
            compare(ws, spec.kernelName() + " (bf16 wgrad split " + splits + ")", GemmEpilogue.accumulateF32(), want,
                    BF16_F32_BOUND);
        }
    }

    /**
     * Uploads the epilogue's inputs, launches, and returns the oracle's C: {@code GemmEpilogue}'s steps in
     * FP32 on {@code acc}, one rounding each, then BF16 rounding for a BF16 output.
     */
    private static double[] runEpilogue(DeviceWorkspace ws, RandomTensors random, GemmEpilogue epilogue, int m, int n,
                                        float[] acc, KernelSpec spec) {
        float[] bias = random.bf16Gaussian(n, RandomTensors.WEIGHT_STD); // the BF16 working copy of the FP32 bias
        float[] residual = random.bf16Gaussian(m * n, RandomTensors.ACTIVATION_STD);
        float[] previous = random.gradients(m * n); // dW of earlier micro-batches
        if (epilogue.bias()) {
            ws.input("bias", HostArray.bf16(bias));
        }
        if (epilogue.residual()) {
            ws.input("residual", HostArray.bf16(residual));
        }
        if (epilogue.accumulate()) {
            ws.input("c", HostArray.f32(previous));
        } else {
            ws.output("c", epilogue.output(), m * n);
        }
        if (spec instanceof GemmKernel g && g.splits() > 1) {
            ws.output("partials", DType.F32, g.splits() * m * n).launch(spec.emit()).launch(g.splitReduction().emit());
            float[] first = ws.f32("c");
            ws.write("c", HostArray.f32(previous)).launch(spec.emit()).launch(g.splitReduction().emit());
            Accuracy.bitExact(spec.kernelName() + " rerun", ws.f32("c"), first);
        } else {
            ws.launch(spec.emit());
        }
        double[] want = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int o = i * n + j;
                float v = acc[o];
                v = epilogue.bias() ? v + bias[j] : v;
                v = epilogue.residual() ? (epilogue.output() == DType.BF16 ? Bf16.round(v) : v) + residual[o] : v;
                v = epilogue.accumulate() ? previous[o] + v : v;
                want[o] = epilogue.output() == DType.BF16 ? Bf16.round(v) : v;
            }
        }
        return want;
    }

    private static void compare(DeviceWorkspace ws, String what, GemmEpilogue epilogue, double[] want, double f32Bound) {
        if (epilogue.output() == DType.BF16) {
            Accuracy.relativeL2(what + " c (bf16)", ws.bf16("c"), want, BF16_OUTPUT_BOUND);
        } else {
            Accuracy.relativeL2(what + " c (f32)", ws.f32("c"), want, f32Bound);
        }
    }
}

package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.quant.AmaxReduce;
import dev.octet.compiler.cuda.quant.ColumnAmax;
import dev.octet.compiler.cuda.quant.QuantizeColumns;
import dev.octet.compiler.cuda.quant.QuantizeDelayed;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.cuda.quant.QuantizeTensorwise;
import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeTiled;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Bf16;
import dev.octet.numerics.DelayedScaling;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import dev.octet.numerics.ScaleType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * FP8 quantize kernels against {@code Quantizer} and {@code DelayedScaling}: codes and scales bit for bit
 * (the oracle reproduces {@code cvt.rn.satfinite} exactly, and amax/scale arithmetic has one right answer).
 */
@GpuKernelTest
class QuantizeKernelsGpuTest {

    /** Input role: what a tensor of that role holds in training, hence its magnitude. */
    enum Role {
        ACTIVATION(RandomTensors.ACTIVATION_STD), WEIGHT(RandomTensors.WEIGHT_STD), GRADIENT(RandomTensors.GRADIENT_STD);

        final double std;

        Role(double std) {
            this.std = std;
        }
    }

    static Stream<Arguments> tiledCases() {
        return Stream.of(
                // fprop activation X[T, dim]: 1x128 groups along channels
                arguments(DType.BF16, 256, 384, false, Granularity.group(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                // wgrad operand: X transposed, grouped along tokens
                arguments(DType.BF16, 256, 384, true, Granularity.group(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                // weights W[out, in] from FP32 masters: 128x128 blocks, and transposed for dgrad
                arguments(DType.F32, 384, 256, false, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT),
                arguments(DType.F32, 384, 256, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.FP32, Role.WEIGHT),
                // gradients in E5M2 with FP32 scales; ragged shapes give partial tail tiles along both axes
                arguments(DType.BF16, 200, 300, false, Granularity.group(128), Fp8Format.E5M2, ScaleType.FP32, Role.GRADIENT),
                arguments(DType.BF16, 200, 300, true, Granularity.group(64), Fp8Format.E5M2, ScaleType.UE8M0, Role.GRADIENT),
                arguments(DType.BF16, 1000, 128, false, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT),
                // row-wise (torchao): per token and per channel
                arguments(DType.BF16, 256, 384, false, Granularity.token(), Fp8Format.E4M3, ScaleType.FP32, Role.ACTIVATION),
                arguments(DType.F32, 384, 128, false, Granularity.channel(), Fp8Format.E4M3, ScaleType.FP32, Role.WEIGHT),
                // the tiny model: X[512, 128] for the q projection, its wgrad operand, the ffn down weight [128, 384]
                arguments(DType.BF16, 512, 128, false, Granularity.group(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.BF16, 512, 384, true, Granularity.group(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.GRADIENT),
                arguments(DType.F32, 128, 384, false, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT),
                // blocks staged through shared memory (StagedTile), either layout: BF16 working copies, ragged tails
                // on both axes, rows that 16-byte loads cannot cover, blocks of 64, and Qwen2.5-1.5B's MLP weight
                // [8960, 1536] and k/v weight [256, 1536]
                arguments(DType.BF16, 300, 200, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT),
                arguments(DType.BF16, 300, 200, false, Granularity.block(128), Fp8Format.E4M3, ScaleType.FP32, Role.WEIGHT),
                arguments(DType.BF16, 130, 100, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT),
                arguments(DType.BF16, 130, 100, false, Granularity.block(64), Fp8Format.E5M2, ScaleType.UE8M0, Role.WEIGHT),
                arguments(DType.BF16, 300, 200, true, Granularity.block(64), Fp8Format.E5M2, ScaleType.FP32, Role.WEIGHT),
                arguments(DType.F32, 200, 300, true, Granularity.block(64), Fp8Format.E5M2, ScaleType.FP32, Role.WEIGHT),
                arguments(DType.BF16, 8960, 1536, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT),
                arguments(DType.BF16, 8960, 1536, false, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT),
                arguments(DType.BF16, 256, 1536, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0, Role.WEIGHT));
    }

    @ParameterizedTest(name = "{0}[{1}x{2}] transpose={3} {4} {5} {6}")
    @MethodSource("tiledCases")
    void tiledQuantizeIsBitExact(DType input, int rows, int cols, boolean transpose, Granularity granularity,
                                 Fp8Format format, ScaleType scaleType, Role role) {
        QuantizeOperand operand = new QuantizeOperand(input, rows, cols, transpose, format);
        QuantizeTiled spec = new QuantizeTiled(operand, granularity, scaleType);
        float[] x = inputValues(input, rows * cols, role, 11);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("x", hostInput(input, x))
                    .output("codes", operand.codeType(), rows * cols)
                    .output("scales", DType.F32, spec.grid().scaleCount())
                    .launch(spec.emit());
            QuantizedMatrix want = oracle(operand, x, granularity, scaleType);
            Accuracy.bitExact(spec.kernelName() + " codes", ws.fp8("codes"), want.codes());
            Accuracy.bitExact(spec.kernelName() + " scales", ws.f32("scales"), spec.grid().stored(want.scales()));
        }
    }

    static Stream<Arguments> masterCases() {
        return Stream.of(
                // Qwen2.5-1.5B's MLP weight in both layouts (fprop, dgrad), ragged tails, rows that 16-byte loads
                // cannot cover (100 columns), blocks of 64
                arguments(8960, 1536, false, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0),
                arguments(8960, 1536, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0),
                arguments(300, 200, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0),
                arguments(300, 200, false, Granularity.block(128), Fp8Format.E4M3, ScaleType.FP32),
                arguments(130, 100, true, Granularity.block(128), Fp8Format.E4M3, ScaleType.UE8M0),
                arguments(130, 100, false, Granularity.block(64), Fp8Format.E5M2, ScaleType.UE8M0));
    }

    /**
     * A weight quantized from its FP32 master (WeightsFromMasters) is quantized as its BF16 working copy would be:
     * the master rounded to nearest even, then the oracle. Every 16th master lies exactly halfway between two BF16
     * values, so the kernel's rounding of ties is checked too.
     */
    @ParameterizedTest(name = "master f32[{0}x{1}] transpose={2} {3} {4} {5}")
    @MethodSource("masterCases")
    void weightQuantizedFromItsMasterIsBitExact(int rows, int cols, boolean transpose, Granularity granularity,
                                               Fp8Format format, ScaleType scaleType) {
        QuantizeOperand operand = new QuantizeOperand(DType.BF16, rows, cols, transpose, format);
        QuantizeTiled spec = new QuantizeTiled(operand, granularity, scaleType, QuantizedSource.MASTER);
        float[] master = inputValues(DType.F32, rows * cols, Role.WEIGHT, 13);
        for (int i = 0; i < master.length; i += 16) {
            master[i] = Float.intBitsToFloat((Float.floatToRawIntBits(master[i]) & 0xffff0000) | 0x8000);
        }
        float[] working = new float[master.length];
        for (int i = 0; i < master.length; i++) {
            working[i] = Bf16.round(master[i]);
        }
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("master", HostArray.f32(master))
                    .output("codes", operand.codeType(), rows * cols)
                    .output("scales", DType.F32, spec.grid().scaleCount())
                    .launch(spec.emit());
            QuantizedMatrix want = oracle(operand, working, granularity, scaleType);
            Accuracy.bitExact(spec.kernelName() + " codes", ws.fp8("codes"), want.codes());
            Accuracy.bitExact(spec.kernelName() + " scales", ws.f32("scales"), spec.grid().stored(want.scales()));
        }
    }

    static Stream<Arguments> groupCases() {
        return Stream.of(
                // warp per group: fprop X and dgrad dY of the tiny model and GPT-2 (8192 tokens), ragged tails
                arguments(DType.BF16, 512, 128, false, 128, Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.BF16, 8192, 768, false, 128, Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.BF16, 8192, 3072, false, 128, Fp8Format.E5M2, ScaleType.FP32, Role.GRADIENT),
                arguments(DType.BF16, 200, 300, false, 128, Fp8Format.E5M2, ScaleType.FP32, Role.GRADIENT),
                arguments(DType.BF16, 300, 200, false, 48, Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.F32, 64, 1000, false, 1024, Fp8Format.E4M3, ScaleType.FP32, Role.WEIGHT),
                // staged transpose: the wgrad operands of the tiny model and GPT-2, ragged tails on both axes
                arguments(DType.BF16, 512, 128, true, 128, Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.BF16, 512, 384, true, 128, Fp8Format.E4M3, ScaleType.UE8M0, Role.GRADIENT),
                arguments(DType.BF16, 8192, 768, true, 128, Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.BF16, 8192, 3072, true, 128, Fp8Format.E5M2, ScaleType.FP32, Role.GRADIENT),
                arguments(DType.BF16, 300, 200, true, 128, Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.BF16, 200, 300, true, 64, Fp8Format.E5M2, ScaleType.UE8M0, Role.GRADIENT),
                arguments(DType.F32, 384, 256, true, 32, Fp8Format.E4M3, ScaleType.FP32, Role.WEIGHT));
    }

    @ParameterizedTest(name = "{0}[{1}x{2}] transpose={3} group {4} {5} {6}")
    @MethodSource("groupCases")
    void groupQuantizeIsBitExact(DType input, int rows, int cols, boolean transpose, int group, Fp8Format format,
                                 ScaleType scaleType, Role role) {
        QuantizeOperand operand = new QuantizeOperand(input, rows, cols, transpose, format);
        QuantizeGroups spec = new QuantizeGroups(operand, group, scaleType);
        float[] x = inputValues(input, rows * cols, role, 12);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("x", hostInput(input, x))
                    .output("codes", operand.codeType(), rows * cols)
                    .output("scales", DType.F32, spec.grid().scaleCount())
                    .launch(spec.emit());
            QuantizedMatrix want = oracle(operand, x, Granularity.group(group), scaleType);
            Accuracy.bitExact(spec.kernelName() + " codes", ws.fp8("codes"), want.codes());
            Accuracy.bitExact(spec.kernelName() + " scales", ws.f32("scales"), spec.grid().stored(want.scales()));
        }
    }

    static Stream<Arguments> bothLayoutCases() {
        return Stream.of(
                // a gradient read by dgrad (row groups) and wgrad (transposed groups): the tiny model, Qwen2.5-1.5B's
                // dGate [16384, 8960], and ragged shapes: tails on both axes, rows that 16-byte loads cannot cover
                arguments(512, 384, 128, Fp8Format.E4M3, ScaleType.UE8M0, 128, Fp8Format.E4M3, ScaleType.UE8M0),
                arguments(16384, 8960, 128, Fp8Format.E4M3, ScaleType.UE8M0, 128, Fp8Format.E4M3, ScaleType.UE8M0),
                arguments(300, 200, 64, Fp8Format.E4M3, ScaleType.FP32, 64, Fp8Format.E5M2, ScaleType.UE8M0),
                arguments(130, 100, 128, Fp8Format.E5M2, ScaleType.UE8M0, 32, Fp8Format.E4M3, ScaleType.FP32));
    }

    /**
     * One read of the input for both layouts equals the two separate quantizations, bit for bit; with column sums (a
     * bias gradient's first stage fused into dY's quantization) the codes and scales are the same, and each tile's
     * column sums lie within FP32 rounding of the exact sums of the BF16 inputs.
     */
    @ParameterizedTest(name = "bf16[{0}x{1}] transposed group {2} {3} {4}, row group {5} {6} {7}")
    @MethodSource("bothLayoutCases")
    void bothLayoutsFromOneReadAreBitExact(int rows, int cols, int group, Fp8Format format, ScaleType scaleType,
                                           int rowGroup, Fp8Format rowFormat, ScaleType rowScaleType) {
        QuantizeOperand operand = new QuantizeOperand(DType.BF16, rows, cols, true, format);
        float[] x = inputValues(DType.BF16, rows * cols, Role.GRADIENT, 14);
        QuantizedMatrix transposed = oracle(operand, x, Granularity.group(group), scaleType);
        QuantizedMatrix rowGroups = Quantizer.quantize(x, rows, cols, Granularity.group(rowGroup), Axis.COLS,
                rowFormat, rowScaleType);
        int tiles = Math.ceilDiv(rows, group);
        for (boolean columnSums : new boolean[] {false, true}) {
            QuantizeGroups spec = new QuantizeGroups(operand, group, scaleType,
                    Optional.of(new GroupQuantization(rowFormat, rowScaleType, rowGroup)), QuantizedSource.STORED, false,
                    columnSums);
            try (DeviceWorkspace ws = GpuSession.get().workspace()) {
                ws.input("x", hostInput(DType.BF16, x))
                        .output("codes", operand.codeType(), rows * cols)
                        .output("scales", DType.F32, spec.grid().scaleCount())
                        .output("row_codes", DType.of(rowFormat), rows * cols)
                        .output("row_scales", DType.F32, spec.rowGrid().scaleCount());
                if (columnSums) {
                    ws.output("column_partials", DType.F32, tiles * cols);
                }
                ws.launch(spec.emit());
                Accuracy.bitExact(spec.kernelName() + " codes", ws.fp8("codes"), transposed.codes());
                Accuracy.bitExact(spec.kernelName() + " scales", ws.f32("scales"), spec.grid().stored(transposed.scales()));
                Accuracy.bitExact(spec.kernelName() + " row codes", ws.fp8("row_codes"), rowGroups.codes());
                Accuracy.bitExact(spec.kernelName() + " row scales", ws.f32("row_scales"), rowGroups.scales());
                if (columnSums) {
                    assertTileColumnSums(spec.kernelName(), x, rows, cols, group, ws.f32("column_partials"));
                }
            }
        }
    }

    /** Each tile's column sums within 1e-6·Σ|x| of the exact sums of the BF16-rounded inputs. */
    private static void assertTileColumnSums(String kernel, float[] x, int rows, int cols, int group, float[] partials) {
        for (int t = 0; t < Math.ceilDiv(rows, group); t++) {
            for (int c = 0; c < cols; c++) {
                double sum = 0, magnitude = 0;
                for (int r = t * group; r < Math.min(rows, (t + 1) * group); r++) {
                    double v = Bf16.round(x[r * cols + c]);
                    sum += v;
                    magnitude += Math.abs(v);
                }
                double error = Math.abs(partials[t * cols + c] - sum);
                assertTrue(error <= 1e-6 * magnitude + 1e-30, kernel + ": tile " + t + " column " + c + " sums to "
                        + partials[t * cols + c] + ", expected " + sum + " (|error| " + error + ")");
            }
        }
    }

    static Stream<Arguments> tensorwiseCases() {
        return Stream.of(
                arguments(DType.BF16, 256, 384, false, Fp8Format.E4M3, ScaleType.FP32),
                arguments(DType.BF16, 300, 200, true, Fp8Format.E5M2, ScaleType.UE8M0),
                arguments(DType.F32, 384, 256, false, Fp8Format.E4M3, ScaleType.UE8M0),
                // large enough that the amax needs the full 1024 partials and several elements per thread
                arguments(DType.BF16, 4096, 384, true, Fp8Format.E4M3, ScaleType.FP32),
                // transposed through shared-memory tiles: ragged on both axes, and GPT-2's wgrad operand at 8 x 1024 tokens
                arguments(DType.F32, 130, 1000, true, Fp8Format.E4M3, ScaleType.UE8M0),
                arguments(DType.BF16, 8192, 768, true, Fp8Format.E4M3, ScaleType.FP32));
    }

    @ParameterizedTest(name = "{0}[{1}x{2}] transpose={3} {4} {5}")
    @MethodSource("tensorwiseCases")
    void tensorwiseCurrentScalingIsBitExact(DType input, int rows, int cols, boolean transpose, Fp8Format format,
                                            ScaleType scaleType) {
        QuantizeOperand operand = new QuantizeOperand(input, rows, cols, transpose, format);
        QuantizeTensorwise spec = new QuantizeTensorwise(operand, scaleType);
        AmaxReduce amax = spec.amaxReduce();
        float[] x = inputValues(input, rows * cols, Role.ACTIVATION, 12);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("x", hostInput(input, x))
                    .output("amax_partials", DType.F32, amax.partialCount())
                    .output("codes", operand.codeType(), rows * cols)
                    .output("scales", DType.F32, 1)
                    .launch(amax.emit())
                    .launch(spec.emit());
            QuantizedMatrix want = oracle(operand, x, Granularity.tensor(), scaleType);
            float partialMax = 0;
            for (float p : ws.f32("amax_partials")) {
                partialMax = Math.max(partialMax, p);
            }
            Accuracy.bitExact(amax.kernelName() + " max of partials", new float[] {partialMax},
                    new float[] {Quantizer.amax(x)});
            Accuracy.bitExact(spec.kernelName() + " codes", ws.fp8("codes"), want.codes());
            Accuracy.bitExact(spec.kernelName() + " scale", ws.f32("scales"), want.scales());
        }
    }

    static Stream<Arguments> columnCases() {
        return Stream.of(
                // GPT-2's wgrad operands at 8 x 1024 tokens under the rowwise recipe, and its dgrad weight layout
                arguments(DType.BF16, 8192, 768, Fp8Format.E4M3, ScaleType.FP32, Role.ACTIVATION),
                arguments(DType.BF16, 8192, 3072, Fp8Format.E4M3, ScaleType.FP32, Role.GRADIENT),
                arguments(DType.F32, 768, 768, Fp8Format.E4M3, ScaleType.FP32, Role.WEIGHT),
                // ragged on both axes; rows that 16-byte loads cannot cover (100 BF16, 1001 FP32 columns)
                arguments(DType.BF16, 257, 100, Fp8Format.E5M2, ScaleType.UE8M0, Role.GRADIENT),
                arguments(DType.F32, 130, 1001, Fp8Format.E4M3, ScaleType.UE8M0, Role.ACTIVATION),
                arguments(DType.BF16, 70, 136, Fp8Format.E4M3, ScaleType.FP32, Role.ACTIVATION));
    }

    /** ColumnAmax then QuantizeColumns: one scale per output row of a transposed output, against the oracle. */
    @ParameterizedTest(name = "{0}[{1}x{2}] transposed, a scale per column, {3} {4}")
    @MethodSource("columnCases")
    void perColumnScalingOfATransposedOutputIsBitExact(DType input, int rows, int cols, Fp8Format format,
                                                       ScaleType scaleType, Role role) {
        QuantizeOperand operand = new QuantizeOperand(input, rows, cols, true, format);
        QuantizeColumns spec = new QuantizeColumns(operand, scaleType);
        ColumnAmax amax = spec.columnAmax();
        float[] x = inputValues(input, rows * cols, role, 14);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("x", hostInput(input, x))
                    .output("amax_partials", DType.F32, amax.partialCount())
                    .output("codes", operand.codeType(), rows * cols)
                    .output("scales", DType.F32, cols)
                    .launch(amax.emit())
                    .launch(spec.emit());
            QuantizedMatrix want = oracle(operand, x, Granularity.channel(), scaleType);
            Accuracy.bitExact(spec.kernelName() + " codes", ws.fp8("codes"), want.codes());
            Accuracy.bitExact(spec.kernelName() + " scales", ws.f32("scales"), want.scales());
        }
    }

    static Stream<Arguments> delayedCases() {
        return Stream.of(
                arguments(DType.BF16, 256, 384, false, Fp8Format.E4M3, 4, 0),
                arguments(DType.BF16, 200, 300, true, Fp8Format.E5M2, 3, 1),
                arguments(DType.F32, 512, 128, false, Fp8Format.E4M3, 16, -2),
                arguments(DType.F32, 257, 129, true, Fp8Format.E4M3, 8, 0),
                arguments(DType.BF16, 8192, 3072, true, Fp8Format.E5M2, 1024, 0));
    }

    /**
     * Several steps of AmaxReduce (first step only) → QuantizeDelayed → AmaxHistoryUpdate, the amax changing
     * from step to step and the history wrapping around, each step against {@code DelayedScaling.quantize}.
     */
    @ParameterizedTest(name = "{0}[{1}x{2}] transpose={3} {4} history {5} margin {6}")
    @MethodSource("delayedCases")
    void delayedScalingFollowsTheOracleOverSteps(DType input, int rows, int cols, boolean transpose, Fp8Format format,
                                                 int historyLength, int margin) {
        QuantizeOperand operand = new QuantizeOperand(input, rows, cols, transpose, format);
        QuantizeDelayed spec = new QuantizeDelayed(operand, historyLength, margin);
        AmaxReduce firstStep = spec.firstStepAmax();
        CudaKernel amaxKernel = firstStep.emit(), quantizeKernel = spec.emit(), updateKernel = spec.historyUpdate().emit();
        int partials = firstStep.partialCount();
        double[] stepMagnitudes = {1.0, 4.0, 0.25, 2.0, 0.5, 8.0, 1.0};
        RandomTensors random = new RandomTensors(13);
        DelayedScaling state = DelayedScaling.start(format, historyLength, margin);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.output("x", input, rows * cols)
                    .input("amax_history", HostArray.f32(new float[historyLength]))
                    .input("recorded", HostArray.i32(0))
                    .output("first_step_amax_partials", DType.F32, partials)
                    .output("codes", operand.codeType(), rows * cols)
                    .output("scales", DType.F32, 1)
                    .output("step_amax_partials", DType.F32, partials);
            for (int step = 0; step < stepMagnitudes.length; step++) {
                float[] x = input == DType.BF16 ? random.bf16Gaussian(rows * cols, stepMagnitudes[step])
                        : random.gaussian(rows * cols, stepMagnitudes[step]);
                // Poisoned every step: after the first, nothing may read the first-step partials.
                ws.write("x", hostInput(input, x)).poison("first_step_amax_partials").poison("codes")
                        .poison("scales").poison("step_amax_partials");
                ws.launch(amaxKernel, DeviceWorkspace.Binding.buffer("amax_partials", "first_step_amax_partials"))
                        .launch(quantizeKernel)
                        .launch(updateKernel);
                float[] output = transpose ? Numbers.transpose(x, rows, cols) : x;
                DelayedScaling.Step want = state.quantize(output, operand.outputRows(), operand.outputCols());
                String what = spec.kernelName() + " step " + (step + 1);
                Accuracy.bitExact(what + " codes", ws.fp8("codes"), want.quantized().codes());
                Accuracy.bitExact(what + " scale", ws.f32("scales"), want.quantized().scales());
                state = want.next();
                Accuracy.bitExact(what + " amax history", ws.f32("amax_history"), state.history());
                Accuracy.bitExact(what + " recorded", ws.i32("recorded"), new int[] {(int) state.recorded()});
            }
        }
    }

    private static float[] inputValues(DType input, int n, Role role, long seed) {
        RandomTensors random = new RandomTensors(seed);
        return input == DType.BF16 ? random.bf16Gaussian(n, role.std) : random.gaussian(n, role.std);
    }

    private static HostArray hostInput(DType input, float[] x) {
        return input == DType.BF16 ? HostArray.bf16(x) : HostArray.f32(x);
    }

    /** The oracle quantizes the matrix the kernel writes: the input, or its transpose. */
    private static QuantizedMatrix oracle(QuantizeOperand operand, float[] x, Granularity granularity, ScaleType scaleType) {
        float[] output = operand.transpose() ? Numbers.transpose(x, operand.rows(), operand.cols()) : x;
        return Quantizer.quantize(output, operand.outputRows(), operand.outputCols(), granularity, Axis.COLS,
                operand.format(), scaleType);
    }
}

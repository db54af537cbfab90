package dev.octet.gpu.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.pointwise.ColumnPartialSums;
import dev.octet.compiler.cuda.pointwise.ColumnSumAccumulate;
import dev.octet.compiler.cuda.pointwise.GeluBackward;
import dev.octet.compiler.cuda.pointwise.GeluForward;
import dev.octet.compiler.cuda.pointwise.ResidualAdd;
import dev.octet.compiler.cuda.pointwise.SwiGluBackward;
import dev.octet.compiler.cuda.pointwise.SwiGluForward;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.Gelu;
import dev.octet.cpu.ops.Linear;
import dev.octet.cpu.ops.Residual;
import dev.octet.cpu.ops.Rounding;
import dev.octet.cpu.ops.SwiGlu;
import dev.octet.numerics.Axis;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import dev.octet.numerics.ScaleType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.Optional;

/**
 * SwiGLU, GELU, residual add and the bias-gradient column sum against {@code dev.octet.cpu.ops}. Each BF16
 * output is computed in FP32 (expf/tanhf within a few FP32 ulps of the oracle's double) and rounded once, so
 * it lands on the oracle's BF16 value or its neighbour: at most 1 BF16 ulp apart (bound 2 for margin). A
 * fused quantized output must equal {@code Quantizer} applied to the kernel's own BF16 output, bit for bit.
 */
@GpuKernelTest
class PointwiseKernelsGpuTest {
    private static final int MAX_ULPS = 2;
    private static final double COLUMN_SUM_BOUND = 1e-5;
    private static final GroupQuantization GROUPS = new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128);

    @ParameterizedTest(name = "swiglu [{0}, {1}] quantized {2}")
    @CsvSource({"256, 384, true", "512, 384, true", "200, 96, false"}) // T=256; the tiny model's ffn; ragged
    void swiGluForwardAndBackward(int rows, int cols, boolean quantized) {
        int n = rows * cols;
        RandomTensors random = new RandomTensors(51);
        float[] gate = random.bf16Gaussian(n, 1.0), up = random.bf16Gaussian(n, 1.0), dh = random.bf16Gaussian(n, 1e-3);
        SwiGluForward forward = new SwiGluForward(rows, cols, quantized ? Optional.of(GROUPS) : Optional.empty(), true);
        SwiGluBackward backward = new SwiGluBackward(rows, cols);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("gate", HostArray.bf16(gate)).input("up", HostArray.bf16(up)).input("dh", HostArray.bf16(dh))
                    .output("h", DType.BF16, n)
                    .output("dgate", DType.BF16, n)
                    .output("dup", DType.BF16, n);
            if (quantized) {
                ws.output("h_codes", GROUPS.codeType(), n).output("h_scales", DType.F32, n / GROUPS.groupSize());
            }
            ws.launch(forward.emit()).launch(backward.emit());
            double[] h = new double[n], dgate = new double[n], dup = new double[n];
            double[] g = Numbers.toDouble(gate), u = Numbers.toDouble(up);
            SwiGlu.forward(h, g, u, n, Rounding.GPU);
            SwiGlu.backward(dgate, dup, Numbers.toDouble(dh), g, u, n, Rounding.GPU);
            Accuracy.bf16Ulps(forward.kernelName() + " h", ws.bf16Bits("h"), h, MAX_ULPS);
            Accuracy.bf16Ulps(backward.kernelName() + " dgate", ws.bf16Bits("dgate"), dgate, MAX_ULPS);
            Accuracy.bf16Ulps(backward.kernelName() + " dup", ws.bf16Bits("dup"), dup, MAX_ULPS);
            if (quantized) {
                checkFusedQuantization(ws, forward.kernelName(), "h", rows, cols);
            }
        }
    }

    @ParameterizedTest(name = "gelu [{0}, {1}] quantized {2}")
    @CsvSource({"256, 384, true", "512, 512, false", "200, 96, false"}) // GPT-2 style ffn (4x dim 128)
    void geluForwardAndBackward(int rows, int cols, boolean quantized) {
        int n = rows * cols;
        RandomTensors random = new RandomTensors(52);
        float[] x = random.bf16Gaussian(n, 1.0), dout = random.bf16Gaussian(n, 1e-3);
        GeluForward forward = new GeluForward(rows, cols, quantized ? Optional.of(GROUPS) : Optional.empty(), true);
        GeluBackward backward = new GeluBackward(rows, cols);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("x", HostArray.bf16(x)).input("dy", HostArray.bf16(dout))
                    .output("y", DType.BF16, n)
                    .output("dx", DType.BF16, n);
            if (quantized) {
                ws.output("y_codes", GROUPS.codeType(), n).output("y_scales", DType.F32, n / GROUPS.groupSize());
            }
            ws.launch(forward.emit()).launch(backward.emit());
            double[] y = new double[n], dx = new double[n];
            Gelu.forward(y, Numbers.toDouble(x), n, Rounding.GPU);
            Gelu.backward(dx, Numbers.toDouble(dout), Numbers.toDouble(x), n, Rounding.GPU);
            Accuracy.bf16Ulps(forward.kernelName() + " y", ws.bf16Bits("y"), y, MAX_ULPS);
            Accuracy.bf16Ulps(backward.kernelName() + " dx", ws.bf16Bits("dx"), dx, MAX_ULPS);
            if (quantized) {
                checkFusedQuantization(ws, forward.kernelName(), "y", rows, cols);
            }
        }
    }

    @ParameterizedTest(name = "residual [{0}, {1}]")
    @CsvSource({"256, 384", "512, 128", "200, 96"})
    void residualAddAndGradientStream(int rows, int cols) {
        int n = rows * cols;
        RandomTensors random = new RandomTensors(53);
        float[] a = random.bf16Gaussian(n, 1.0), b = random.bf16Gaussian(n, 1.0);
        float[] stream = random.bf16Gaussian(n, 1e-3), branch = random.bf16Gaussian(n, 1e-3);
        ResidualAdd add = ResidualAdd.forward(rows, cols), accumulate = ResidualAdd.gradientStream(rows, cols);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("a", HostArray.bf16(a)).input("b", HostArray.bf16(b)).output("sum", DType.BF16, n)
                    .input("stream", HostArray.bf16(stream)).input("branch", HostArray.bf16(branch))
                    .launch(add.emit()).launch(accumulate.emit());
            double[] sum = new double[n], streamAfter = new double[n];
            Residual.forward(sum, Numbers.toDouble(a), Numbers.toDouble(b), n, Rounding.GPU);
            Residual.forward(streamAfter, Numbers.toDouble(stream), Numbers.toDouble(branch), n, Rounding.GPU);
            // One FP32 add of two BF16 values and one rounding: the oracle's value, barring a double rounding.
            Accuracy.bf16Ulps(add.kernelName() + " sum", ws.bf16Bits("sum"), sum, 1);
            Accuracy.bf16Ulps(accumulate.kernelName() + " stream", ws.bf16Bits("stream"), streamAfter, 1);
        }
    }

    @ParameterizedTest(name = "bias gradient [{0}, {1}]")
    @CsvSource({"256, 384", "512, 256", "1000, 300"})
    void biasGradientColumnSum(int tokens, int features) {
        RandomTensors random = new RandomTensors(54);
        float[] dy = random.bf16Gaussian(tokens * features, 1e-3);
        float[] previous = random.gradients(features); // db of earlier micro-batches
        ColumnSumAccumulate spec = ColumnSumAccumulate.biasGradient(tokens, features);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("sums", HostArray.f32(previous)).input("input", HostArray.bf16(dy)).launch(spec.emit());
            double[] want = Numbers.toDouble(previous);
            Linear.backwardBias(want, Numbers.toDouble(dy), tokens, features);
            float[] first = ws.f32("sums");
            Accuracy.relativeL2(spec.kernelName() + " db", first, want, COLUMN_SUM_BOUND);
            ws.write("sums", HostArray.f32(previous)).launch(spec.emit());
            Accuracy.bitExact(spec.kernelName() + " db rerun", ws.f32("sums"), first);
        }
    }

    /**
     * Tall inputs in two stages: partial sums over row ranges (rows padded to a pitch in one case, ragged ranges in
     * all), then their ordered sum into the gradient; against the oracle, and bit for bit on a rerun.
     */
    @ParameterizedTest(name = "bias gradient in row ranges [{0}, {1}], rows {2} apart")
    @CsvSource({"32768, 768, 768", "16384, 256, 256", "5000, 301, 304"})
    void biasGradientInRowRanges(int tokens, int features, int pitch) {
        RandomTensors random = new RandomTensors(55);
        float[] dyDense = random.bf16Gaussian(tokens * features, 1e-3);
        float[] dy = new float[tokens * pitch];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(dyDense, t * features, dy, t * pitch, features);
            Arrays.fill(dy, t * pitch + features, (t + 1) * pitch, Float.NaN);  // the padding is never read
        }
        float[] previous = random.gradients(features);
        int splits = ColumnPartialSums.splitsFor(DType.BF16, tokens, features, pitch);
        assertTrue(splits > 1, "a tall input is summed in row ranges: " + splits);
        ColumnPartialSums partials = new ColumnPartialSums(DType.BF16, tokens, features, pitch, splits);
        ColumnSumAccumulate total = new ColumnSumAccumulate(DType.F32, splits, features);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("input", HostArray.bf16(dy)).output("partials", DType.F32, splits * features)
                    .input("sums", HostArray.f32(previous)).launch(partials.emit())
                    .launch(total.emit(), DeviceWorkspace.Binding.buffer("input", "partials"));
            double[] want = Numbers.toDouble(previous);
            Linear.backwardBias(want, Numbers.toDouble(dyDense), tokens, features);
            float[] first = ws.f32("sums");
            Accuracy.relativeL2(partials.kernelName() + " db", first, want, COLUMN_SUM_BOUND);
            ws.write("sums", HostArray.f32(previous)).launch(partials.emit())
                    .launch(total.emit(), DeviceWorkspace.Binding.buffer("input", "partials"));
            Accuracy.bitExact(partials.kernelName() + " db rerun", ws.f32("sums"), first);
        }
    }

    /** The fused codes and scales equal a separate quantization of the kernel's own BF16 output. */
    static void checkFusedQuantization(DeviceWorkspace ws, String kernel, String output, int rows, int cols) {
        QuantizedMatrix want = Quantizer.quantize(ws.bf16(output), rows, cols, Granularity.group(GROUPS.groupSize()),
                Axis.COLS, GROUPS.format(), GROUPS.scaleType());
        Accuracy.bitExact(kernel + " " + output + "_codes", ws.fp8(output + "_codes"), want.codes());
        Accuracy.bitExact(kernel + " " + output + "_scales", ws.f32(output + "_scales"), want.scales());
    }
}

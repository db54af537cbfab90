package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.norm.NormBackward;
import dev.octet.compiler.cuda.norm.NormForward;
import dev.octet.compiler.cuda.norm.NormKind;
import dev.octet.compiler.cuda.pointwise.ColumnSumAccumulate;
import dev.octet.compiler.ir.DType;
import dev.octet.cpu.ops.LayerNorm;
import dev.octet.cpu.ops.Residual;
import dev.octet.cpu.ops.RmsNorm;
import dev.octet.cpu.ops.Rounding;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RMSNorm and LayerNorm forward (optionally with the residual add and a group-quantized output) and backward
 * (dx, then the parameter gradients through per-block partials and the column sum) against {@code RmsNorm},
 * {@code LayerNorm} and {@code Residual}. FP32 statistics: within 1e-5 relative. BF16 y: one rounding of an
 * FP32 value, so within 2 BF16 ulps. dx subtracts nearly equal terms before its rounding: relative L2 within
 * 2^-8. Parameter gradients are FP32 sums of T products: relative L2 within 1e-4.
 */
@GpuKernelTest
class NormKernelsGpuTest {
    private static final float EPS = 1e-5f;
    private static final double STATISTICS_BOUND = 1e-5;
    private static final int Y_MAX_ULPS = 2;
    private static final double DX_BOUND = 0x1p-8;
    private static final double PARAMETER_GRADIENT_BOUND = 1e-4;
    private static final GroupQuantization GROUPS = new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128);

    @ParameterizedTest(name = "{0} forward [{1}, {2}] residual {3} quantized {4}")
    @CsvSource({
            "RMS, 256, 384, false, false",
            "RMS, 256, 384, true, true",
            "LAYER, 256, 256, true, false",
            "LAYER, 200, 128, false, true",
            "RMS, 512, 128, true, true"}) // the tiny model: residual stream [512, 128] into the q/kv projections
    void forward(NormKind kind, int rows, int dim, boolean residual, boolean quantized) {
        int n = rows * dim;
        RandomTensors random = new RandomTensors(71);
        float[] stream = random.bf16Gaussian(n, 1.0), branch = random.bf16Gaussian(n, 0.5);
        // Norm weights near 1, biases near 0, as BF16 working copies.
        float[] weight = random.bf16Gaussian(dim, 0.1);
        for (int i = 0; i < dim; i++) {
            weight[i] = dev.octet.numerics.Bf16.round(1 + weight[i]);
        }
        float[] bias = random.bf16Gaussian(dim, RandomTensors.WEIGHT_STD);
        NormForward spec = kind == NormKind.RMS ? NormForward.rms(rows, dim, EPS) : NormForward.layer(rows, dim, EPS);
        spec = residual ? spec.withResidualAdd() : spec;
        spec = quantized ? spec.withQuantizedOutput(GROUPS, true) : spec;
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.output("y", DType.BF16, n).output("rstd", DType.F32, rows).input("weight", HostArray.bf16(weight));
            if (residual) {
                ws.input("residual", HostArray.bf16(stream)).input("branch", HostArray.bf16(branch))
                        .output("residual_out", DType.BF16, n);
            } else {
                ws.input("x", HostArray.bf16(stream));
            }
            if (kind == NormKind.LAYER) {
                ws.output("mean", DType.F32, rows).input("bias", HostArray.bf16(bias));
            }
            if (quantized) {
                ws.output("y_codes", GROUPS.codeType(), n).output("y_scales", DType.F32, n / GROUPS.groupSize());
            }
            ws.launch(spec.emit());

            double[] x = Numbers.toDouble(stream);
            if (residual) {
                double[] sum = new double[n];
                Residual.forward(sum, x, Numbers.toDouble(branch), n, Rounding.GPU);
                Accuracy.bf16Ulps(spec.kernelName() + " residual_out", ws.bf16Bits("residual_out"), sum, 1);
                x = sum;
            }
            double[] y = new double[n], mean = new double[rows], rstd = new double[rows];
            if (kind == NormKind.RMS) {
                RmsNorm.forward(y, rstd, x, Numbers.toDouble(weight), rows, dim, EPS, Rounding.GPU);
            } else {
                LayerNorm.forward(y, mean, rstd, x, Numbers.toDouble(weight), Numbers.toDouble(bias), rows, dim, EPS,
                        Rounding.GPU);
                Accuracy.relativeL2(spec.kernelName() + " mean", ws.f32("mean"), mean, STATISTICS_BOUND);
            }
            Accuracy.relativeL2(spec.kernelName() + " rstd", ws.f32("rstd"), rstd, STATISTICS_BOUND);
            Accuracy.bf16Ulps(spec.kernelName() + " y", ws.bf16Bits("y"), y, Y_MAX_ULPS);
            if (quantized) {
                PointwiseKernelsGpuTest.checkFusedQuantization(ws, spec.kernelName(), "y", rows, dim);
            }
        }
    }

    @ParameterizedTest(name = "{0} backward [{1}, {2}] residual gradient {3}")
    @CsvSource({
            "RMS, 256, 384, false",
            "RMS, 256, 256, true",
            "LAYER, 256, 384, false",
            "LAYER, 200, 128, true",
            "RMS, 512, 128, true"}) // the tiny model
    void backward(NormKind kind, int rows, int dim, boolean residualGradient) {
        int n = rows * dim;
        RandomTensors random = new RandomTensors(72);
        float[] x = random.bf16Gaussian(n, 1.0), dy = random.bf16Gaussian(n, 1e-3), streamGrad = random.bf16Gaussian(n, 1e-3);
        float[] weight = random.bf16Gaussian(dim, 0.1);
        for (int i = 0; i < dim; i++) {
            weight[i] = dev.octet.numerics.Bf16.round(1 + weight[i]);
        }
        float[] previousWeightGrad = random.gradients(dim), previousBiasGrad = random.gradients(dim);
        double[] xD = Numbers.toDouble(x), wD = Numbers.toDouble(weight);
        // The saved statistics, as the forward kernel stores them (FP32).
        double[] mean = new double[rows], rstd = new double[rows], unused = new double[n];
        if (kind == NormKind.RMS) {
            RmsNorm.forward(unused, rstd, xD, wD, rows, dim, EPS, Rounding.GPU);
        } else {
            LayerNorm.forward(unused, mean, rstd, xD, wD, new double[dim], rows, dim, EPS, Rounding.GPU);
        }
        float[] meanF = Numbers.toFloat(mean), rstdF = Numbers.toFloat(rstd);
        NormBackward spec = kind == NormKind.RMS ? NormBackward.rms(rows, dim) : NormBackward.layer(rows, dim);
        spec = residualGradient ? spec.withResidualGradient() : spec;
        ColumnSumAccumulate reduction = spec.gradientReduction();
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.output("dx", DType.BF16, n)
                    .output("weight_grad_partials", DType.F32, spec.partialRows() * dim)
                    .input("dy", HostArray.bf16(dy)).input("x", HostArray.bf16(x)).input("weight", HostArray.bf16(weight))
                    .input("rstd", HostArray.f32(rstdF))
                    .input("weight_grad", HostArray.f32(previousWeightGrad));
            if (kind == NormKind.LAYER) {
                ws.output("bias_grad_partials", DType.F32, spec.partialRows() * dim).input("mean", HostArray.f32(meanF))
                        .input("bias_grad", HostArray.f32(previousBiasGrad));
            }
            if (residualGradient) {
                ws.input("residual_grad", HostArray.bf16(streamGrad));
            }
            ws.launch(spec.emit())
                    .launch(reduction.emit(), DeviceWorkspace.Binding.buffer("sums", "weight_grad"),
                            DeviceWorkspace.Binding.buffer("input", "weight_grad_partials"));
            if (kind == NormKind.LAYER) {
                ws.launch(reduction.emit(), DeviceWorkspace.Binding.buffer("sums", "bias_grad"),
                        DeviceWorkspace.Binding.buffer("input", "bias_grad_partials"));
            }

            double[] dx = new double[n], dw = Numbers.toDouble(previousWeightGrad), db = Numbers.toDouble(previousBiasGrad);
            double[] meanUsed = Numbers.toDouble(meanF), rstdUsed = Numbers.toDouble(rstdF);
            // Exact dx first: the kernel adds the residual stream's gradient in FP32 before its one rounding.
            Rounding dxRounding = residualGradient ? Rounding.EXACT : Rounding.GPU;
            if (kind == NormKind.RMS) {
                RmsNorm.backward(dx, dw, Numbers.toDouble(dy), xD, wD, rstdUsed, rows, dim, dxRounding);
            } else {
                LayerNorm.backward(dx, dw, db, Numbers.toDouble(dy), xD, wD, meanUsed, rstdUsed, rows, dim, dxRounding);
            }
            if (residualGradient) {
                Residual.forward(dx, dx, Numbers.toDouble(streamGrad), n, Rounding.GPU);
            }
            Accuracy.relativeL2(spec.kernelName() + " dx", ws.bf16("dx"), dx, DX_BOUND);
            Accuracy.relativeL2(reduction.kernelName() + " weight gradient", ws.f32("weight_grad"), dw, PARAMETER_GRADIENT_BOUND);
            if (kind == NormKind.LAYER) {
                Accuracy.relativeL2(reduction.kernelName() + " bias gradient", ws.f32("bias_grad"), db, PARAMETER_GRADIENT_BOUND);
            }
        }
    }
}

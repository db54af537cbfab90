package dev.octet.gpu.kernels;

import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.norm.NormForward;
import dev.octet.compiler.cuda.norm.NormKind;
import dev.octet.compiler.cuda.pointwise.GeluForward;
import dev.octet.compiler.cuda.pointwise.SwiGluBackward;
import dev.octet.compiler.cuda.pointwise.SwiGluForward;
import dev.octet.compiler.cuda.quant.QuantizeGroups;
import dev.octet.compiler.cuda.quant.QuantizeOperand;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.cpu.ir.Recomputation;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Backward's transposed quantization that recomputes an activation from its producer's inputs
 * ({@link QuantizedSource}) against the producer kernel itself: the producer writes its BF16 output on the device,
 * the stored-input quantization reads it, and the recomputing quantization, given only the producer's inputs and
 * saved statistics, writes the same codes and scales bit for bit. The producer's output against the CPU's
 * recomputation ({@link Recomputation}, as the CPU backend runs it) closes the chain to the oracle.
 */
@GpuKernelTest
class RecomputedQuantizationGpuTest {
    private static final int MAX_ULPS = 2;

    static Stream<Arguments> cases() {
        return Stream.of(
                // Qwen2.5-1.5B at 2 x 8192 (SwiGLU [16384, 8960], norms [16384, 1536]), GPT-2 (GELU 3072, LayerNorm
                // 768), and ragged shapes: token tails, widths that 16-byte loads cannot cover (100)
                arguments(QuantizedSource.SWIGLU, 16384, 8960, Fp8Format.E4M3, ScaleType.UE8M0, true),
                arguments(QuantizedSource.SWIGLU, 16384, 8960, Fp8Format.E4M3, ScaleType.UE8M0, false),
                arguments(QuantizedSource.SWIGLU, 300, 200, Fp8Format.E4M3, ScaleType.FP32, false),
                arguments(QuantizedSource.SWIGLU, 130, 100, Fp8Format.E5M2, ScaleType.UE8M0, false),
                arguments(QuantizedSource.GELU, 4096, 3072, Fp8Format.E4M3, ScaleType.UE8M0, false),
                arguments(QuantizedSource.GELU, 130, 100, Fp8Format.E4M3, ScaleType.FP32, true),
                arguments(QuantizedSource.GELU, 8192, 3072, Fp8Format.E4M3, ScaleType.UE8M0, true),
                arguments(QuantizedSource.RMS_NORM, 16384, 1536, Fp8Format.E4M3, ScaleType.UE8M0, false),
                arguments(QuantizedSource.RMS_NORM, 300, 96, Fp8Format.E5M2, ScaleType.FP32, false),
                arguments(QuantizedSource.LAYER_NORM, 4096, 768, Fp8Format.E4M3, ScaleType.UE8M0, false),
                arguments(QuantizedSource.LAYER_NORM, 130, 96, Fp8Format.E4M3, ScaleType.FP32, false));
    }

    /**
     * {@code rows}: the kernel also writes the recomputed tensor's own 1×128 row groups, as an activation's forward
     * kernel does when it writes both its fprop and its wgrad operand.
     */
    @ParameterizedTest(name = "{0} [{1} x {2}] {3} {4} rows {5}")
    @MethodSource("cases")
    void recomputedCodesEqualThoseOfTheProducersOutput(QuantizedSource source, int tokens, int width, Fp8Format format,
                                                       ScaleType scaleType, boolean rows) {
        int n = tokens * width;
        RandomTensors random = new RandomTensors(77);
        QuantizeOperand operand = new QuantizeOperand(DType.BF16, tokens, width, true, format);
        Optional<GroupQuantization> rowGroups = rowGroups(rows);
        QuantizeGroups stored = new QuantizeGroups(operand, 128, scaleType, rowGroups);
        QuantizeGroups recomputed = new QuantizeGroups(operand, 128, scaleType, rowGroups, source);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.output("y", DType.BF16, n)
                    .output("codes", operand.codeType(), n).output("scales", DType.F32, stored.grid().scaleCount())
                    .output("recomputed_codes", operand.codeType(), n)
                    .output("recomputed_scales", DType.F32, stored.grid().scaleCount());
            List<DeviceWorkspace.Binding> rowOutputs = new ArrayList<>();
            if (rows) {
                for (String prefix : new String[] {"", "recomputed_"}) {
                    ws.output(prefix + "row_codes", DType.E4M3, n).output(prefix + "row_scales", DType.F32,
                            stored.rowGrid().scaleCount());
                }
                rowOutputs.add(DeviceWorkspace.Binding.buffer("row_codes", "recomputed_row_codes"));
                rowOutputs.add(DeviceWorkspace.Binding.buffer("row_scales", "recomputed_row_scales"));
            }
            producerInputs(ws, source, tokens, width, random);
            CudaKernel producer = producer(source, tokens, width);
            ws.launch(producer, producerBindings(source));
            ws.launch(stored.emit(), DeviceWorkspace.Binding.buffer("x", "y"));
            ws.poison("recomputed_codes").poison("recomputed_scales");
            rowOutputs.add(DeviceWorkspace.Binding.buffer("codes", "recomputed_codes"));
            rowOutputs.add(DeviceWorkspace.Binding.buffer("scales", "recomputed_scales"));
            ws.launch(recomputed.emit(), rowOutputs.toArray(DeviceWorkspace.Binding[]::new));
            Accuracy.bitExact(recomputed.kernelName() + " codes", ws.fp8("recomputed_codes"), ws.fp8("codes"));
            Accuracy.bitExact(recomputed.kernelName() + " scales", ws.f32("recomputed_scales"), ws.f32("scales"));
            if (rows) {
                Accuracy.bitExact(recomputed.kernelName() + " row codes", ws.fp8("recomputed_row_codes"), ws.fp8("row_codes"));
                Accuracy.bitExact(recomputed.kernelName() + " row scales", ws.f32("recomputed_row_scales"),
                        ws.f32("row_scales"));
            }
            // The statistics as the device saved them (FP32), as backward reads them. GELU's 1 + tanh(...) cancels
            // for large negative inputs: there its FP32 rounding, about |u|·2^-23, is the slack. LayerNorm's
            // (x - mean)·rstd·w + b cancels where the bias nearly offsets the product: the FP32 rounding of both terms.
            double[][] inputs = deviceInputs(ws, source);
            double[] slack = new double[n];
            for (int i = 0; i < n; i++) {
                int t = i / width, c = i % width;
                slack[i] = switch (source) {
                    case GELU -> Math.abs(inputs[0][i]) * 0x1p-22;
                    case LAYER_NORM -> (Math.abs((inputs[0][i] - inputs[3][t]) * inputs[4][t] * inputs[1][c])
                            + Math.abs(inputs[2][c])) * 0x1p-22;
                    default -> 0;
                };
            }
            Accuracy.bf16Ulps(producer.name() + " against the CPU's recomputation", ws.bf16Bits("y"),
                    Recomputation.of(source, inputs, tokens, width), MAX_ULPS, slack);
        }
    }

    static Stream<Arguments> gradientCases() {
        return Stream.of(
                // Qwen2.5-1.5B's MLP at 2 x 8192 tokens; ragged token tails and widths
                arguments(16384, 8960, Fp8Format.E4M3, ScaleType.UE8M0, true),
                arguments(300, 200, Fp8Format.E4M3, ScaleType.FP32, true),
                arguments(130, 100, Fp8Format.E5M2, ScaleType.UE8M0, false));
    }

    /**
     * SwiGLU's two gradients quantized by one kernel from gate, up and dh (GradientsQuantizedFromInputs; each block
     * computes both from one read of its tile of the inputs) against SwiGLU backward's kernel and a quantization of each output it stored: the same
     * codes and scales bit for bit, row groups included (PointwiseKernelsGpuTest holds SwiGLU backward to the oracle).
     */
    @ParameterizedTest(name = "[{0} x {1}] {2} {3} rows {4}")
    @MethodSource("gradientCases")
    void siblingGradientsEqualTheQuantizedOutputsOfSwiGluBackward(int tokens, int width, Fp8Format format, ScaleType scaleType,
                                                                 boolean rows) {
        int n = tokens * width;
        RandomTensors random = new RandomTensors(91);
        QuantizeOperand operand = new QuantizeOperand(DType.BF16, tokens, width, true, format);
        Optional<GroupQuantization> rowGroups = rowGroups(rows);
        QuantizeGroups stored = new QuantizeGroups(operand, 128, scaleType, rowGroups);
        QuantizeGroups siblings = new QuantizeGroups(operand, 128, scaleType, rowGroups, QuantizedSource.SWIGLU_GATE_GRADIENT, true);
        try (DeviceWorkspace ws = GpuSession.get().workspace()) {
            ws.input("gate", HostArray.bf16(random.bf16Gaussian(n, 2.0))).input("up", HostArray.bf16(random.bf16Gaussian(n, 1.0)))
                    .input("dh", HostArray.bf16(random.bf16Gaussian(n, 0.01)))
                    .output("dgate", DType.BF16, n).output("dup", DType.BF16, n);
            List<String> outputs = new ArrayList<>(List.of("codes", "scales"));
            if (rows) {
                outputs.addAll(List.of("row_codes", "row_scales"));
            }
            for (String prefix : List.of("dgate_", "dup_", "first_", "second_")) {
                ws.output(prefix + "codes", operand.codeType(), n).output(prefix + "scales", DType.F32, stored.grid().scaleCount());
                if (rows) {
                    ws.output(prefix + "row_codes", DType.E4M3, n).output(prefix + "row_scales", DType.F32, stored.rowGrid().scaleCount());
                }
            }
            ws.launch(new SwiGluBackward(tokens, width).emit());
            for (String gradient : List.of("dgate", "dup")) {
                List<DeviceWorkspace.Binding> bindings = new ArrayList<>(List.of(DeviceWorkspace.Binding.buffer("x", gradient)));
                outputs.forEach(o -> bindings.add(DeviceWorkspace.Binding.buffer(o, gradient + "_" + o)));
                ws.launch(stored.emit(), bindings.toArray(DeviceWorkspace.Binding[]::new));
            }
            for (String o : outputs) {
                ws.poison("first_" + o).poison("second_" + o);
            }
            ws.launch(siblings.emit());
            for (String o : outputs) {
                for (String[] pair : new String[][] {{"first_", "dgate_"}, {"second_", "dup_"}}) {
                    String what = siblings.kernelName() + " " + pair[0] + o;
                    if (o.endsWith("scales")) {
                        Accuracy.bitExact(what, ws.f32(pair[0] + o), ws.f32(pair[1] + o));
                    } else {
                        Accuracy.bitExact(what, ws.fp8(pair[0] + o), ws.fp8(pair[1] + o));
                    }
                }
            }
        }
    }

    /** With {@code rows}: 1×128 E4M3 groups along the input's rows, as an fprop or dgrad operand is quantized. */
    private static Optional<GroupQuantization> rowGroups(boolean rows) {
        return rows ? Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128)) : Optional.empty();
    }

    /**
     * Writes the producer's random inputs (per-element and per-column, BF16) and makes room for the statistics it
     * saves (per-token, FP32), under the names {@link QuantizedSource#inputs()} gives them.
     */
    private static void producerInputs(DeviceWorkspace ws, QuantizedSource source, int tokens, int width,
                                       RandomTensors random) {
        for (int i = 0; i < source.inputs().size(); i++) {
            String name = source.inputs().get(i);
            switch (source.kind(i)) {
                case ELEMENT -> ws.input(name, HostArray.bf16(random.bf16Gaussian(tokens * width, 1.0)));
                case COLUMN -> ws.input(name, HostArray.bf16(random.bf16Gaussian(width, 1.0)));
                case ROW -> ws.output(name, DType.F32, tokens);
            }
        }
    }

    /** The recomputation's inputs as the device holds them after the producer ran, statistics included. */
    private static double[][] deviceInputs(DeviceWorkspace ws, QuantizedSource source) {
        double[][] in = new double[source.inputs().size()][];
        for (int i = 0; i < in.length; i++) {
            String name = source.inputs().get(i);
            // As the producer stores them: a row statistic (rstd, mean) in FP32, elements and columns in BF16.
            in[i] = Numbers.toDouble(switch (source.kind(i)) {
                case ROW -> ws.f32(name);
                case ELEMENT, COLUMN -> ws.bf16(name);
            });
        }
        return in;
    }

    private static CudaKernel producer(QuantizedSource source, int tokens, int width) {
        return switch (source) {
            case SWIGLU -> new SwiGluForward(tokens, width).emit();
            case GELU -> new GeluForward(tokens, width).emit();
            case RMS_NORM -> NormForward.rms(tokens, width, 1e-6f).emit();
            case LAYER_NORM -> new NormForward(NormKind.LAYER, tokens, width, 1e-5f, false, Optional.empty(), true).emit();
            case STORED, MASTER, SWIGLU_GATE_GRADIENT, SWIGLU_UP_GRADIENT ->
                    throw new IllegalArgumentException(source + " is not an activation's producer");
        };
    }

    /** The producers name their outputs h (SwiGLU) or y, and GELU's input x. */
    private static DeviceWorkspace.Binding[] producerBindings(QuantizedSource source) {
        return switch (source) {
            case SWIGLU -> new DeviceWorkspace.Binding[] {DeviceWorkspace.Binding.buffer("h", "y")};
            case GELU -> new DeviceWorkspace.Binding[] {DeviceWorkspace.Binding.buffer("x", "u")};
            default -> new DeviceWorkspace.Binding[0];
        };
    }
}

package dev.octet.compiler.cuda.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.cuda.ModelShapes;
import dev.octet.compiler.cuda.Nvcc;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class QuantizeKernelsTest {

    /** The quantizations a linear layer's three GEMMs need, in each recipe the language can say. */
    static List<KernelSpec> specsFor(ModelShapes s) {
        QuantizeOperand x = new QuantizeOperand(DType.BF16, s.tokens(), s.dModel(), false, Fp8Format.E4M3);
        QuantizeOperand xForWgrad = new QuantizeOperand(DType.BF16, s.tokens(), s.dModel(), true, Fp8Format.E4M3);
        QuantizeOperand dy = new QuantizeOperand(DType.BF16, s.tokens(), s.dFf(), false, Fp8Format.E5M2);
        QuantizeOperand dyForWgrad = new QuantizeOperand(DType.BF16, s.tokens(), s.dFf(), true, Fp8Format.E4M3);
        QuantizeOperand w = new QuantizeOperand(DType.F32, s.dFf(), s.dModel(), false, Fp8Format.E4M3);
        QuantizeOperand wForDgrad = new QuantizeOperand(DType.F32, s.dFf(), s.dModel(), true, Fp8Format.E4M3);
        QuantizeTensorwise tensorwise = new QuantizeTensorwise(x, ScaleType.FP32);
        QuantizeDelayed delayed = new QuantizeDelayed(dy, 16, 0);
        return List.of(
                new QuantizeTiled(x, Granularity.group(128), ScaleType.UE8M0),
                new QuantizeTiled(xForWgrad, Granularity.group(128), ScaleType.UE8M0),
                new QuantizeTiled(dy, Granularity.group(128), ScaleType.FP32),
                new QuantizeTiled(dyForWgrad, Granularity.group(128), ScaleType.UE8M0),
                new QuantizeTiled(w, Granularity.block(128), ScaleType.UE8M0),
                new QuantizeTiled(wForDgrad, Granularity.block(128), ScaleType.UE8M0),
                new QuantizeTiled(w, Granularity.channel(), ScaleType.FP32),
                new QuantizeTiled(xForWgrad, Granularity.channel(), ScaleType.FP32),
                new QuantizeTiled(x, Granularity.token(), ScaleType.FP32),
                new QuantizeGroups(xForWgrad, 128, ScaleType.UE8M0),
                new QuantizeGroups(x, 128, ScaleType.UE8M0),
                new QuantizeGroups(dy, 128, ScaleType.FP32),
                new QuantizeGroups(dyForWgrad, 128, ScaleType.FP32),
                new QuantizeGroups(dyForWgrad, 128, ScaleType.UE8M0,
                        Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128))),
                new QuantizeGroups(wForDgrad, 64, ScaleType.FP32),
                // wgrad operands recomputed from what produced them (a recipe's recompute)
                new QuantizeGroups(xForWgrad, 128, ScaleType.UE8M0, Optional.empty(), QuantizedSource.RMS_NORM),
                new QuantizeGroups(xForWgrad, 128, ScaleType.UE8M0, Optional.empty(), QuantizedSource.LAYER_NORM),
                new QuantizeGroups(dyForWgrad, 128, ScaleType.UE8M0, Optional.empty(), QuantizedSource.SWIGLU),
                new QuantizeGroups(dyForWgrad, 128, ScaleType.FP32, Optional.empty(), QuantizedSource.GELU),
                // an activation's forward kernel writing its fprop and wgrad operands from one read of its inputs
                new QuantizeGroups(dyForWgrad, 128, ScaleType.UE8M0,
                        Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128)), QuantizedSource.SWIGLU),
                new QuantizeGroups(dyForWgrad, 128, ScaleType.UE8M0,
                        Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128)), QuantizedSource.GELU),
                new QuantizeTiled(new QuantizeOperand(DType.BF16, s.dFf(), s.dModel(), true, Fp8Format.E4M3),
                        Granularity.block(128), ScaleType.UE8M0),
                new QuantizeTiled(new QuantizeOperand(DType.BF16, s.dFf(), s.dModel(), false, Fp8Format.E4M3),
                        Granularity.block(64), ScaleType.FP32),
                tensorwise.amaxReduce(),
                tensorwise,
                new QuantizeTensorwise(wForDgrad, ScaleType.UE8M0),
                delayed.firstStepAmax(),
                delayed,
                delayed.historyUpdate(),
                new QuantizeDelayed(xForWgrad, 1024, 2),
                // a scale per input column of a transposed output (channel wgrad operands, the dgrad weight layout)
                new QuantizeColumns(xForWgrad, ScaleType.FP32).columnAmax(),
                new QuantizeColumns(xForWgrad, ScaleType.FP32),
                new QuantizeColumns(wForDgrad, ScaleType.UE8M0).columnAmax(),
                new QuantizeColumns(wForDgrad, ScaleType.UE8M0));
    }

    @TestFactory
    Stream<DynamicTest> everyKernelCompilesWithoutSpills() {
        Map<String, CudaKernel> kernels = new LinkedHashMap<>();
        for (ModelShapes shapes : ModelShapes.all()) {
            for (KernelSpec spec : specsFor(shapes)) {
                kernels.putIfAbsent(spec.kernelName(), spec.emit());
            }
        }
        return kernels.values().stream().map(k -> DynamicTest.dynamicTest(k.name(), () -> {
            Nvcc.Usage usage = Nvcc.compileWithoutSpills(k);
            System.out.println(k.name() + ": " + usage.registers() + " registers, no spills");
        }));
    }

    @Test
    void sourcesAreDeterministicAndOneNameMeansOneSpec() {
        Map<String, KernelSpec> byName = new LinkedHashMap<>();
        for (ModelShapes shapes : ModelShapes.all()) {
            for (KernelSpec spec : specsFor(shapes)) {
                assertEquals(spec.emit(), spec.emit(), spec.kernelName());
                // Equal specs may recur across models (they share one kernel); different specs never share a name.
                KernelSpec seen = byName.putIfAbsent(spec.kernelName(), spec);
                assertTrue(seen == null || seen.equals(spec), spec.kernelName());
            }
        }
    }

    @Test
    void oneBlockPerScaleTileIncludingPartialTails() {
        QuantizeOperand ragged = new QuantizeOperand(DType.BF16, 300, 200, true, Fp8Format.E4M3);
        QuantizeTiled groups = new QuantizeTiled(ragged, Granularity.group(128), ScaleType.UE8M0);
        assertEquals(200, groups.grid().scaleRows());
        assertEquals(3, groups.grid().scaleCols()); // 128 + 128 + a tail of 44
        assertEquals(600, groups.emit().launch().gridX());
        // Staged blocks: a grid of input column tiles x input row tiles, one block each.
        LaunchGeometry blocks = new QuantizeTiled(ragged, Granularity.block(128), ScaleType.UE8M0).emit().launch();
        assertEquals(2, blocks.gridX()); // 200 input columns: 128 + a tail of 72
        assertEquals(3, blocks.gridY()); // 300 input rows: 128 + 128 + a tail of 44
        LaunchGeometry walked = new QuantizeTiled(new QuantizeOperand(DType.F32, 300, 200, true, Fp8Format.E4M3),
                Granularity.block(128), ScaleType.UE8M0).emit().launch();
        assertEquals(2 * 3, walked.gridX()); // FP32 blocks of 128 are walked, one block per scale tile
    }

    @Test
    void aWarpPerRowGroupCoversEveryGroup() {
        QuantizeOperand ragged = new QuantizeOperand(DType.BF16, 300, 200, false, Fp8Format.E4M3);
        QuantizeGroups spec = new QuantizeGroups(ragged, 128, ScaleType.UE8M0);
        assertEquals(new QuantizeTiled(ragged, Granularity.group(128), ScaleType.UE8M0).grid(), spec.grid());
        assertEquals(75, spec.emit().launch().gridX()); // 300 rows x 2 groups (128 + a tail of 72), 8 per block
        assertThrows(IllegalArgumentException.class, () -> new QuantizeGroups(ragged, QuantizeGroups.maxGroup(false) + 1,
                ScaleType.UE8M0));
    }

    @Test
    void theStagedTileCoversEveryGroupOfEveryColumn() {
        QuantizeOperand ragged = new QuantizeOperand(DType.BF16, 300, 200, true, Fp8Format.E4M3);
        QuantizeGroups spec = new QuantizeGroups(ragged, 128, ScaleType.UE8M0);
        assertEquals(new QuantizeTiled(ragged, Granularity.group(128), ScaleType.UE8M0).grid(), spec.grid());
        assertEquals(2, spec.emit().launch().gridX()); // 200 input columns in tiles of 128
        assertEquals(3, spec.emit().launch().gridY()); // 300 tokens: 128 + 128 + a tail of 44
        assertThrows(IllegalArgumentException.class, () -> new QuantizeGroups(ragged,
                QuantizeGroups.maxGroup(true) + 1, ScaleType.UE8M0));
    }

    @Test
    void delayedScalingKernelsAgreeOnTheirPartials() {
        QuantizeDelayed delayed = new QuantizeDelayed(
                new QuantizeOperand(DType.BF16, 4096, 1536, false, Fp8Format.E4M3), 16, 0);
        int blocks = delayed.emit().launch().gridX();
        assertEquals(blocks, delayed.historyUpdate().partialCount());
        assertEquals(delayed.firstStepAmax().partialCount(), delayed.firstStepAmax().emit().launch().gridX());
        assertTrue(delayed.firstStepAmax().emit().params().stream().anyMatch(p -> p.name().equals("recorded")));
        assertEquals(List.of("x", "amax_history", "recorded", "first_step_amax_partials", "codes", "scales",
                "step_amax_partials"), delayed.emit().params().stream().map(p -> p.name()).toList());
    }

    @Test
    void badSpecsAreRefusedWithTheReason() {
        QuantizeOperand x = new QuantizeOperand(DType.BF16, 512, 128, false, Fp8Format.E4M3);
        assertMessage("tensor-wise scaling needs the amax of the whole tensor first",
                () -> new QuantizeTiled(x, Granularity.tensor(), ScaleType.UE8M0));
        assertMessage("quantize reads bf16 or f32, not e4m3",
                () -> new QuantizeOperand(DType.E4M3, 512, 128, false, Fp8Format.E4M3));
        assertMessage("non-empty matrix", () -> new QuantizeOperand(DType.BF16, 0, 128, false, Fp8Format.E4M3));
        assertMessage("too large", () -> new QuantizeOperand(DType.BF16, 1 << 16, 1 << 16, false, Fp8Format.E4M3));
        assertMessage("amax history of at least 1", () -> new QuantizeDelayed(x, 0, 0));
        assertMessage("margin 300", () -> new QuantizeDelayed(x, 16, 300));
        assertMessage("amax reads bf16 or f32", () -> new AmaxReduce(DType.I32, 10, false));
        assertMessage("column amax reads bf16 or f32", () -> new ColumnAmax(DType.E4M3, 10, 10));
        assertMessage("only when the output is the input transposed", () -> new QuantizeColumns(x, ScaleType.FP32));
        assertMessage("no amax partials", () -> new AmaxHistoryUpdate(16, 0));
        QuantizeOperand xForWgrad = new QuantizeOperand(DType.BF16, 512, 128, true, Fp8Format.E4M3);
        assertMessage("can also write 1x48 row groups only for BF16 input and a group size dividing 128",
                () -> new QuantizeGroups(xForWgrad, 128, ScaleType.UE8M0,
                        Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 48))));
        assertMessage("can also write 1x128 row groups", () -> new QuantizeGroups(x, 128, ScaleType.UE8M0,
                Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128))));
        assertMessage("only a transposing group quantization of BF16 can recompute its input (swiglu)",
                () -> new QuantizeGroups(x, 128, ScaleType.UE8M0, Optional.empty(), QuantizedSource.SWIGLU));
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }
}

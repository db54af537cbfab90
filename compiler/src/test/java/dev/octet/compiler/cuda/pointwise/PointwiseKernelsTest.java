package dev.octet.compiler.cuda.pointwise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelChecks;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.ModelShapes;
import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PointwiseKernelsTest {
    static final Optional<GroupQuantization> INFIR2 =
            Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128));

    static List<ModelShapes> models() {
        return ModelShapes.all();
    }

    @ParameterizedTest
    @MethodSource("models")
    void compileWithoutSpills(ModelShapes m) {
        int t = m.tokens();
        KernelChecks.compilesWithoutSpills(
                new SwiGluForward(t, m.ffn()),
                new SwiGluForward(t, m.ffn(), INFIR2, true),
                new SwiGluForward(t, m.ffn(), INFIR2, false),
                new SwiGluBackward(t, m.ffn()),
                new GeluForward(t, m.ffn()),
                new GeluForward(t, m.ffn(), INFIR2, true),
                new GeluBackward(t, m.ffn()),
                ResidualAdd.forward(t, m.dim()),
                ResidualAdd.gradientStream(t, m.dim()),
                ColumnSumAccumulate.biasGradient(t, m.dim()),
                ColumnSumAccumulate.biasGradient(t, 3 * m.dim()),
                ColumnSumAccumulate.biasGradient(t, m.ffn()));
    }

    @Test
    void otherFormatsGroupsAndOddShapesCompile() {
        KernelChecks.compilesWithoutSpills(
                new SwiGluForward(512, 384, Optional.of(new GroupQuantization(Fp8Format.E5M2, ScaleType.FP32, 32)), true),
                new GeluForward(512, 384, Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.FP32, 384)), false),
                new GeluForward(7, 99),
                ResidualAdd.gradientStream(3, 5),
                ColumnSumAccumulate.biasGradient(100, 50257),
                new ColumnSumAccumulate(DType.F32, 3, 77));
    }

    @Test
    void buffersInSignatureOrder() {
        assertEquals(List.of("h", "gate", "up"), KernelChecks.paramNames(new SwiGluForward(512, 384)));
        assertEquals(List.of("h", "h_codes", "h_scales", "gate", "up"),
                KernelChecks.paramNames(new SwiGluForward(512, 384, INFIR2, true)));
        assertEquals(List.of("h_codes", "h_scales", "gate", "up"),
                KernelChecks.paramNames(new SwiGluForward(512, 384, INFIR2, false)));
        assertEquals(List.of("dgate", "dup", "gate", "up", "dh"), KernelChecks.paramNames(new SwiGluBackward(512, 384)));
        assertEquals(List.of("y", "y_codes", "y_scales", "x"), KernelChecks.paramNames(new GeluForward(512, 384, INFIR2, true)));
        assertEquals(List.of("dx", "dy", "x"), KernelChecks.paramNames(new GeluBackward(512, 384)));
        assertEquals(List.of("sum", "a", "b"), KernelChecks.paramNames(ResidualAdd.forward(512, 128)));
        assertEquals(List.of("stream", "branch"), KernelChecks.paramNames(ResidualAdd.gradientStream(512, 128)));
        assertEquals(List.of("sums", "input"), KernelChecks.paramNames(ColumnSumAccumulate.biasGradient(512, 128)));
    }

    @Test
    void accessAndTypesOfBuffers() {
        List<KernelParam> stream = ResidualAdd.gradientStream(512, 128).emit().params();
        assertEquals(KernelParam.inOut("stream", DType.BF16), stream.get(0));
        List<KernelParam> quantized = new GeluForward(512, 384, INFIR2, false).emit().params();
        assertEquals(KernelParam.out("y_codes", DType.E4M3), quantized.get(0));
        assertEquals(KernelParam.out("y_scales", DType.F32), quantized.get(1));
        assertEquals(KernelParam.inOut("sums", DType.F32), ColumnSumAccumulate.biasGradient(4, 4).emit().params().get(0));
    }

    @Test
    void badSpecsAreRefusedWithClearMessages() {
        refused(() -> new SwiGluForward(512, 384, Optional.empty(), false), "writes nothing");
        refused(() -> new SwiGluForward(512, 300, INFIR2, true), "group size 128 does not divide the row length 300");
        refused(() -> new GeluForward(512, 144, Optional.of(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 48)), true),
                "neither a multiple nor a power-of-two fraction");
        refused(() -> new GeluBackward(0, 384), "shape must be positive");
        refused(() -> new ColumnSumAccumulate(DType.E4M3, 4, 4), "column sums read bf16 or f32, not e4m3");
    }

    @Test
    void sourcesAreDeterministicAndNamesDistinguishSpecs() {
        assertEquals(new SwiGluForward(512, 384, INFIR2, true).emit(), new SwiGluForward(512, 384, INFIR2, true).emit());
        assertTrue(!new SwiGluForward(512, 384, INFIR2, true).kernelName()
                .equals(new SwiGluForward(512, 384, INFIR2, false).kernelName()));
        assertTrue(!ResidualAdd.forward(512, 128).kernelName().equals(ResidualAdd.gradientStream(512, 128).kernelName()));
    }

    private static void refused(Executable build, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(message), () -> "message was: " + e.getMessage());
    }
}

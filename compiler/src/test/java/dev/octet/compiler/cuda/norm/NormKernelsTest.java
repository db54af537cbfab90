package dev.octet.compiler.cuda.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.CudaLiteral;
import dev.octet.compiler.cuda.GroupQuantization;
import dev.octet.compiler.cuda.KernelChecks;
import dev.octet.compiler.cuda.ModelShapes;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.function.Executable;

class NormKernelsTest {
    static final GroupQuantization INFIR2 = new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 128);
    static final float EPS = 1e-5f;

    static List<ModelShapes> models() {
        return ModelShapes.all();
    }

    private static NormForward forward(NormKind kind, int rows, int dim) {
        return new NormForward(kind, rows, dim, EPS, false, Optional.empty(), true);
    }

    @ParameterizedTest
    @MethodSource("models")
    void compileWithoutSpills(ModelShapes m) {
        for (NormKind kind : NormKind.values()) {
            NormForward plain = forward(kind, m.tokens(), m.dim());
            NormBackward backward = new NormBackward(kind, m.tokens(), m.dim(), false);
            KernelChecks.compilesWithoutSpills(
                    plain,
                    plain.withResidualAdd(),
                    plain.withQuantizedOutput(INFIR2, true),
                    plain.withResidualAdd().withQuantizedOutput(INFIR2, false),
                    backward,
                    backward.withResidualGradient(),
                    backward.gradientReduction());
        }
    }

    @Test
    void otherFormatsScalesAndGroupsCompile() {
        NormForward rms = forward(NormKind.RMS, 512, 128);
        KernelChecks.compilesWithoutSpills(
                rms.withQuantizedOutput(new GroupQuantization(Fp8Format.E5M2, ScaleType.FP32, 128), true),
                rms.withQuantizedOutput(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 32), true),
                rms.withQuantizedOutput(new GroupQuantization(Fp8Format.E4M3, ScaleType.FP32, 64), false),
                forward(NormKind.LAYER, 64, 768).withQuantizedOutput(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 96), true),
                forward(NormKind.RMS, 64, 768).withQuantizedOutput(new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 768), true));
    }

    @ParameterizedTest
    @EnumSource(NormKind.class)
    void widestRowsCompileWithoutSpills(NormKind kind) {
        // Qwen2.5-7B's 3584 and the limit 4096: the forward holds dim / 32 floats per lane.
        for (int dim : new int[] {3584, NormForward.MAX_DIM}) {
            KernelChecks.compilesWithoutSpills(
                    forward(kind, 4096, dim).withResidualAdd().withQuantizedOutput(INFIR2, true),
                    new NormBackward(kind, 4096, dim, true));
        }
        KernelChecks.compilesWithoutSpills(new NormBackward(kind, 4096, 8192, true));
    }

    @Test
    void buffersInSignatureOrder() {
        assertEquals(List.of("y", "rstd", "x", "weight"), KernelChecks.paramNames(NormForward.rms(512, 128, EPS)));
        assertEquals(List.of("y", "y_codes", "y_scales", "residual_out", "mean", "rstd", "residual", "branch", "weight", "bias"),
                KernelChecks.paramNames(NormForward.layer(512, 128, EPS).withResidualAdd().withQuantizedOutput(INFIR2, true)));
        assertEquals(List.of("y_codes", "y_scales", "rstd", "x", "weight"),
                KernelChecks.paramNames(NormForward.rms(512, 128, EPS).withQuantizedOutput(INFIR2, false)));
        assertEquals(List.of("dx", "weight_grad_partials", "dy", "x", "weight", "rstd"),
                KernelChecks.paramNames(NormBackward.rms(512, 128)));
        assertEquals(List.of("dx", "weight_grad_partials", "bias_grad_partials", "dy", "x", "weight", "mean", "rstd", "residual_grad"),
                KernelChecks.paramNames(NormBackward.layer(512, 128).withResidualGradient()));
    }

    @Test
    void partialRowsMatchTheGridAndTheReduction() {
        // 192 threads a block: three blocks an SM, one wave of 396 blocks over 132 SMs, 11 rows each.
        NormBackward b = NormBackward.rms(4096, 1536);
        assertEquals(11, b.rowsPerBlock());
        assertEquals(373, b.partialRows());
        assertEquals(373, b.emit().launch().gridX());
        assertEquals(373, b.gradientReduction().rows());
        // 1,024 threads a block (dim 8192): one block an SM.
        assertEquals(Math.ceilDiv(4096, 132), NormBackward.rms(4096, 8192).rowsPerBlock());
        NormBackward small = NormBackward.layer(5, 128);
        assertEquals(5, small.partialRows());
        assertEquals(5, small.emit().launch().gridX());
    }

    @Test
    void badSpecsAreRefusedWithClearMessages() {
        refused(() -> NormForward.rms(512, 100, EPS), "dim 100 must be a multiple of 32");
        refused(() -> NormForward.rms(512, 8192, EPS), "at most 4096");
        refused(() -> NormForward.rms(512, 128, 0f), "eps must be positive");
        refused(() -> NormForward.rms(512, 128, Float.NaN), "eps must be positive");
        refused(() -> NormForward.rms(512, 128, EPS).withQuantizedOutput(
                new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 256), true), "group size 256 does not divide the row length 128");
        refused(() -> NormForward.rms(512, 192, EPS).withQuantizedOutput(
                new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 48), true), "neither a multiple nor a power-of-two fraction");
        refused(() -> new NormForward(NormKind.RMS, 512, 128, EPS, false, Optional.empty(), false), "writes no output");
        refused(() -> NormBackward.rms(512, 100), "dim 100 must be a multiple of 32");
        refused(() -> NormBackward.layer(0, 128), "shape must be positive");
        refused(() -> new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, 0), "group size must be positive");
    }

    @Test
    void specsThatDifferOnlyInEpsHaveDifferentNames() {
        assertNotEquals(NormForward.rms(512, 128, 1e-5f).kernelName(), NormForward.rms(512, 128, 1e-6f).kernelName());
        assertTrue(NormForward.rms(512, 128, 1e-5f).emit().source().contains("#define EPS " + CudaLiteral.f32(1e-5f) + "\n"));
    }

    private static void refused(Executable build, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(message), () -> "message was: " + e.getMessage());
    }
}

package dev.octet.compiler.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.ScaleType;
import org.junit.jupiter.api.Test;

class GroupQuantizationTest {
    private static GroupQuantization groups(int g) {
        return new GroupQuantization(Fp8Format.E4M3, ScaleType.UE8M0, g);
    }

    @Test
    void warpStepsTileTheRowIntoWholeGroups() {
        // 128-groups: a warp of 8-wide vectors covers two groups, unless the row is an odd number of groups.
        assertEquals(8, groups(128).widestVectorsFor(1536, "k").width());
        assertEquals(256, groups(128).step(new VectorAccess(8)));
        assertEquals(4, groups(128).widestVectorsFor(384, "k").width());
        assertEquals(128, groups(128).step(new VectorAccess(4)));
        // A group wider than a warp's vectors is one step of several vectors per lane.
        assertEquals(8, groups(768).widestVectorsFor(768, "k").width());
        assertEquals(768, groups(768).step(new VectorAccess(8)));
        // 96 = 3·32 only fits single-element vectors.
        assertEquals(1, groups(96).widestVectorsFor(768, "k").width());
    }

    @Test
    void groupsThatFitNoWarpStepAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> groups(48).widestVectorsFor(144, "gelu"));
        assertTrue(e.getMessage().startsWith("gelu: quantization group size 48"), e.getMessage());
    }

    @Test
    void scaleTypeChoosesTheDivision() {
        String ue8m0 = groups(128).source(new VectorAccess(8));
        assertTrue(ue8m0.contains("pow2_scale(amax, FP8_MAX)") && ue8m0.contains("v[k] * inv"));
        String fp32 = new GroupQuantization(Fp8Format.E5M2, ScaleType.FP32, 128).source(new VectorAccess(8));
        assertTrue(fp32.contains("fp32_scale(amax, FP8_MAX)") && fp32.contains("__fdiv_rn(v[k], s)"));
        assertTrue(fp32.contains("#define FP8_MAX 57344.0f") && fp32.contains("f32x2_to_e5m2x2"));
    }

    @Test
    void vectorWidthsAreOneTwoFourOrEight() {
        assertThrows(IllegalArgumentException.class, () -> new VectorAccess(3));
        assertEquals(4, VectorAccess.widestDividing(100).width());
        assertEquals(1, VectorAccess.widestDividing(50257).width());
    }

    @Test
    void floatLiteralsReadBack() {
        assertEquals("1.0E-5f", CudaLiteral.f32(1e-5f));
        assertEquals("448.0f", CudaLiteral.f32(448f));
        assertThrows(IllegalArgumentException.class, () -> CudaLiteral.f32(Float.NaN));
    }
}

package dev.octet.gpu;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.octet.gpu.TensorMapSpec.DataType.BFLOAT16;
import static dev.octet.gpu.TensorMapSpec.DataType.UINT8;
import static dev.octet.gpu.TensorMapSpec.Swizzle.B128;
import static dev.octet.gpu.TensorMapSpec.Swizzle.B64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorMapSpecTest {
    private static final long ADDRESS = 0x7f00_0000_0000L;

    @Test
    void rowMajorListsDimsInnermostFirst() {
        TensorMapSpec spec = TensorMapSpec.rowMajor(UINT8, ADDRESS, 4096, 7168, 64, 128, B128);
        assertEquals(List.of(7168L, 4096L), spec.globalDims());
        assertEquals(List.of(7168L), spec.globalStrides());
        assertEquals(List.of(128, 64), spec.boxDims());
        assertEquals(2, spec.rank());
    }

    /** GPT-2's logits: 50,257 BF16 columns in rows padded to 50,264 (16-byte row starts, which TMA requires). */
    @Test
    void paddedRowsStrideByThePitch() {
        TensorMapSpec spec = TensorMapSpec.rowMajor(BFLOAT16, ADDRESS, 5248, 50257, 50264, 64, 64, B128);
        assertEquals(List.of(50257L, 5248L), spec.globalDims());
        assertEquals(List.of(50264L * 2), spec.globalStrides());
        assertThrows(IllegalArgumentException.class, () -> TensorMapSpec.rowMajor(BFLOAT16, ADDRESS, 5248, 50257, 50257, 64, 64, B128));
    }

    @Test
    void theDriversConstraintsAreCheckedUpFront() {
        // 128 BF16 = 256 B: wider than a 128-byte swizzle row.
        String swizzle = assertThrows(IllegalArgumentException.class,
                () -> TensorMapSpec.rowMajor(BFLOAT16, ADDRESS, 128, 4096, 64, 128, B128)).getMessage();
        assertTrue(swizzle.contains("exceeds the B128 swizzle span"), swizzle);
        // 100 columns of bytes: a row stride that is not a multiple of 16.
        assertThrows(IllegalArgumentException.class, () -> TensorMapSpec.rowMajor(UINT8, ADDRESS, 64, 100, 64, 64, B64));
        assertThrows(IllegalArgumentException.class, () -> TensorMapSpec.rowMajor(UINT8, ADDRESS + 8, 64, 128, 64, 64, B64));
        assertThrows(IllegalArgumentException.class, () -> TensorMapSpec.rowMajor(UINT8, ADDRESS, 64, 1024, 512, 64, B64));
        assertThrows(IllegalArgumentException.class, () -> TensorMapSpec.rowMajor(UINT8, 0, 64, 128, 64, 64, B64));
    }

    @Test
    void encodedMapsAre128Bytes() {
        assertEquals(128, new TensorMap(new byte[128]).bytes().length);
        assertThrows(IllegalArgumentException.class, () -> new TensorMap(new byte[64]));
    }
}

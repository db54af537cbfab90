package dev.octet.compiler.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CudaLiteralTest {
    @Test
    void hexLiteralsNameTheExactFloat() {
        for (float v : new float[] {0.9f, 0.1f, (float) (1 - 0.95), 1e-8f, 448f, Float.MIN_VALUE, Float.MAX_VALUE, -3.5f}) {
            String literal = CudaLiteral.f32(v);
            assertEquals(v, Float.parseFloat(literal.substring(0, literal.length() - 1)), literal);
        }
        assertEquals("0.0f", CudaLiteral.f32(0f));
        assertEquals("-0.0f", CudaLiteral.f32(-0f));
        assertEquals(1.0, Double.parseDouble(CudaLiteral.f64(1.0)));
    }

    @Test
    void nonFiniteConstantsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> CudaLiteral.f32(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> CudaLiteral.f64(Double.POSITIVE_INFINITY));
    }
}

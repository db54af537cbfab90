package dev.octet.gpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PtxasUsageTest {
    private static final String LOG = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'first' for 'sm_90a'
            ptxas info    : Function properties for first
                0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 8 registers, used 0 barriers, 368 bytes cmem[0]
            ptxas info    : Compiling entry function 'gemm' for 'sm_90a'
            ptxas info    : Function properties for gemm
                48 bytes stack frame, 40 bytes spill stores, 36 bytes spill loads
            ptxas info    : Used 255 registers, used 1 barriers, 392 bytes cmem[0]
            """;

    @Test
    void readsTheBlockOfTheNamedEntry() {
        assertEquals(new PtxasUsage(255, 48, 40, 36), PtxasUsage.parse(LOG, "gemm"));
        assertEquals(new PtxasUsage(8, 0, 0, 0), PtxasUsage.parse(LOG, "first"));
        assertEquals(76, PtxasUsage.parse(LOG, "gemm").spillBytes());
    }

    @Test
    void anUnknownEntryFallsBackToTheFirst() {
        assertEquals(8, PtxasUsage.parse(LOG, "_Z5otherv").registers());
    }

    @Test
    void aLogWithoutPtxasReportIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> PtxasUsage.parse("", "k"));
    }
}

package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The memory bandwidth a profile measures against, by the name the CUDA driver gives the card. */
class MemoryCeilingTest {
    @Test
    void eachCardGetsItsOwnBandwidth() {
        assertEquals(4800, MemoryCeiling.of("NVIDIA H200").gbPerSecond());
        assertEquals(3350, MemoryCeiling.of("NVIDIA H100 80GB HBM3").gbPerSecond());
        assertEquals(2000, MemoryCeiling.of("NVIDIA H100 PCIe").gbPerSecond());
        assertEquals(3900, MemoryCeiling.of("NVIDIA H100 NVL").gbPerSecond());
        assertTrue(MemoryCeiling.of("NVIDIA H100 80GB HBM3").known());
        assertEquals("3,350 GB/s (NVIDIA H100 80GB HBM3)", MemoryCeiling.of("NVIDIA H100 80GB HBM3").describe());
    }

    @Test
    void aCardNotListedIsMeasuredAgainstTheH200AndSaysSo() {
        MemoryCeiling other = MemoryCeiling.of("NVIDIA A100-SXM4-80GB");
        assertFalse(other.known());
        assertEquals(4800, other.gbPerSecond());
        assertEquals("4,800 GB/s (an H200's; NVIDIA A100-SXM4-80GB not known)", other.describe());
    }
}

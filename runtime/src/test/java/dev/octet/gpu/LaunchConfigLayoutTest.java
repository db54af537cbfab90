package dev.octet.gpu;

import dev.octet.compiler.cuda.LaunchGeometry;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LaunchConfigLayoutTest {

    @Test
    void layoutsMatchCudaH() {
        // sizeof/offsetof from CUDA 13.0's cuda.h on x86-64 (unchanged since CUDA 12.0).
        assertEquals(56, LaunchConfigLayout.CONFIG.byteSize());
        assertEquals(8, LaunchConfigLayout.CONFIG.byteAlignment());
        assertEquals(24, LaunchConfigLayout.offset(LaunchConfigLayout.CONFIG, "sharedMemBytes"));
        assertEquals(32, LaunchConfigLayout.offset(LaunchConfigLayout.CONFIG, "hStream"));
        assertEquals(40, LaunchConfigLayout.offset(LaunchConfigLayout.CONFIG, "attrs"));
        assertEquals(48, LaunchConfigLayout.offset(LaunchConfigLayout.CONFIG, "numAttrs"));
        assertEquals(72, LaunchConfigLayout.ATTRIBUTE.byteSize());
        assertEquals(8, LaunchConfigLayout.offset(LaunchConfigLayout.ATTRIBUTE, "value"));
    }

    @Test
    void aClusterLaunchConfigHoldsTheGeometryStreamAndOneClusterAttribute() {
        try (Arena arena = Arena.ofConfined()) {
            LaunchGeometry g = new LaunchGeometry(132, 2, 1, 384, 1, 1, 200 * 1024);
            MemorySegment config = LaunchConfigLayout.clusterLaunch(arena, g, 0xABC000L, new ClusterShape(2, 1, 1));
            int[] expected = {132, 2, 1, 384, 1, 1, 200 * 1024};
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], config.get(JAVA_INT, 4L * i));
            }
            assertEquals(0xABC000L, config.get(ADDRESS, 32).address());
            assertEquals(1, config.get(JAVA_INT, 48));
            MemorySegment attribute = config.get(ADDRESS, 40).reinterpret(LaunchConfigLayout.ATTRIBUTE.byteSize());
            assertEquals(LaunchConfigLayout.CLUSTER_DIMENSION, attribute.get(JAVA_INT, 0));
            assertEquals(2, attribute.get(JAVA_INT, 8));
            assertEquals(1, attribute.get(JAVA_INT, 12));
            assertEquals(1, attribute.get(JAVA_INT, 16));
        }
    }

    @Test
    void clustersMustTileTheGrid() {
        new ClusterShape(2, 1, 1).requireDivides(LaunchGeometry.linear(132, 128, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new ClusterShape(2, 1, 1).requireDivides(LaunchGeometry.linear(133, 128, 0)));
        assertThrows(IllegalArgumentException.class, () -> new ClusterShape(4, 4, 1));
    }
}

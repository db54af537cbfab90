package dev.octet.gpu;

import dev.octet.compiler.cuda.LaunchGeometry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The C structs of cuLaunchKernelEx (cuda.h, CUDA 12 and 13 alike): {@code CUlaunchConfig} (56 bytes) and
 * {@code CUlaunchAttribute} (72 bytes: a 4-byte id padded to 8, then a 64-byte value union). Offsets were
 * checked against offsetof() of CUDA 13.0's cuda.h; the unit test pins them.
 */
final class LaunchConfigLayout {
    private LaunchConfigLayout() {}

    /** CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION: the value holds three unsigned ints x, y, z. */
    static final int CLUSTER_DIMENSION = 4;

    static final StructLayout ATTRIBUTE = MemoryLayout.structLayout(
            JAVA_INT.withName("id"),
            MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(64, JAVA_BYTE).withByteAlignment(8).withName("value")
    ).withName("CUlaunchAttribute");

    static final StructLayout CONFIG = MemoryLayout.structLayout(
            JAVA_INT.withName("gridDimX"),
            JAVA_INT.withName("gridDimY"),
            JAVA_INT.withName("gridDimZ"),
            JAVA_INT.withName("blockDimX"),
            JAVA_INT.withName("blockDimY"),
            JAVA_INT.withName("blockDimZ"),
            JAVA_INT.withName("sharedMemBytes"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("hStream"),
            ADDRESS.withName("attrs"),
            JAVA_INT.withName("numAttrs"),
            MemoryLayout.paddingLayout(4)
    ).withName("CUlaunchConfig");

    private static final VarHandle ATTRIBUTE_ID = ATTRIBUTE.varHandle(groupElement("id"));

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }

    /** A CUlaunchConfig for {@code launch} on {@code stream} with one cluster-dimension attribute. */
    static MemorySegment clusterLaunch(Arena arena, LaunchGeometry launch, long stream, ClusterShape cluster) {
        MemorySegment attribute = arena.allocate(ATTRIBUTE);
        ATTRIBUTE_ID.set(attribute, 0L, CLUSTER_DIMENSION);
        long value = offset(ATTRIBUTE, "value");
        attribute.set(JAVA_INT, value, cluster.x());
        attribute.set(JAVA_INT, value + 4, cluster.y());
        attribute.set(JAVA_INT, value + 8, cluster.z());

        MemorySegment config = arena.allocate(CONFIG);
        int[] dims = {launch.gridX(), launch.gridY(), launch.gridZ(), launch.blockX(), launch.blockY(),
                launch.blockZ(), launch.sharedBytes()};
        String[] names = {"gridDimX", "gridDimY", "gridDimZ", "blockDimX", "blockDimY", "blockDimZ",
                "sharedMemBytes"};
        for (int i = 0; i < dims.length; i++) {
            config.set(JAVA_INT, offset(CONFIG, names[i]), dims[i]);
        }
        config.set(ADDRESS, offset(CONFIG, "hStream"), MemorySegment.ofAddress(stream));
        config.set(ADDRESS, offset(CONFIG, "attrs"), attribute);
        config.set(JAVA_INT, offset(CONFIG, "numAttrs"), 1);
        return config;
    }
}

package dev.octet.gpu;

import dev.octet.compiler.cuda.LaunchGeometry;

/**
 * Thread-block cluster dimensions (Hopper): blocks of one cluster run at once on neighbouring SMs and share
 * distributed shared memory, which TMA multicast uses. At most 8 blocks, the portable limit.
 */
public record ClusterShape(int x, int y, int z) {
    public static final int PORTABLE_LIMIT = 8;

    public ClusterShape {
        if (x < 1 || y < 1 || z < 1 || x * y * z > PORTABLE_LIMIT) {
            throw new IllegalArgumentException("cluster " + x + "x" + y + "x" + z
                    + " must have 1 to " + PORTABLE_LIMIT + " blocks");
        }
    }

    /** The grid must tile into whole clusters. */
    public void requireDivides(LaunchGeometry launch) {
        if (launch.gridX() % x != 0 || launch.gridY() % y != 0 || launch.gridZ() % z != 0) {
            throw new IllegalArgumentException("grid " + launch.gridX() + "x" + launch.gridY() + "x" + launch.gridZ()
                    + " is not a multiple of cluster " + x + "x" + y + "x" + z);
        }
    }
}

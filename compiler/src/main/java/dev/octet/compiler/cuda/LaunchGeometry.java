package dev.octet.compiler.cuda;

/** Grid, block and dynamic shared memory of one kernel launch; fixed at compile time like the shapes. */
public record LaunchGeometry(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {
    public LaunchGeometry {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1 || sharedBytes < 0) {
            throw new IllegalArgumentException("bad launch geometry " + gridX + "x" + gridY + "x" + gridZ
                    + " / " + blockX + "x" + blockY + "x" + blockZ + " smem " + sharedBytes);
        }
        if ((long) blockX * blockY * blockZ > 1024) {
            throw new IllegalArgumentException("more than 1024 threads per block");
        }
    }

    public static LaunchGeometry linear(int grid, int block, int sharedBytes) {
        return new LaunchGeometry(grid, 1, 1, block, 1, 1, sharedBytes);
    }

    public int threadsPerBlock() {
        return blockX * blockY * blockZ;
    }
}

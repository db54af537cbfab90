package dev.octet.compiler.cuda.gemm;

/**
 * How a Hopper GEMM template ({@link Fp8WgmmaGemm}, {@link Bf16WgmmaGemm}) covers a problem: output tiles of
 * 128 × {@code blockN}, thread-block clusters of {@code cluster} blocks (2: the pair shares A by TMA multicast), K
 * split {@code splits} ways. The ring's stages follow (as many as fit), so these three are what a measurement
 * chooses ({@link GemmSchedules}).
 */
public record GemmSchedule(int blockN, int cluster, int splits) {
    public GemmSchedule {
        if (blockN <= 0 || cluster <= 0 || splits <= 0) {
            throw new IllegalArgumentException("a GEMM schedule's column tile, cluster and splits are positive: " + blockN + ", "
                    + cluster + ", " + splits);
        }
    }

    /** {@code 128x1x1}: column tile, cluster, splits, as the schedule table writes it. */
    @Override
    public String toString() {
        return blockN + "x" + cluster + "x" + splits;
    }

    /** The inverse of {@link #toString}. */
    public static GemmSchedule parse(String text) {
        String[] parts = text.split("x");
        if (parts.length != 3) {
            throw new IllegalArgumentException("a GEMM schedule reads blockN x cluster x splits (e.g. 128x1x1), not '" + text + "'");
        }
        try {
            return new GemmSchedule(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a GEMM schedule reads blockN x cluster x splits (e.g. 128x1x1), not '" + text + "'");
        }
    }
}

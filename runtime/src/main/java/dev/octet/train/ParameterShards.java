package dev.octet.train;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Which rank owns which parameter in a data-parallel run with sharded optimizer state (ZeRO-1): the owner alone
 * keeps the parameter's FP32 master copy and AdamW moments up to date and hands the updated weights to the
 * others. Parameters go whole to the least-loaded rank, largest first (ties to the lower rank and the earlier
 * parameter), so the assignment depends only on the sizes and the number of ranks.
 */
final class ParameterShards {
    private final int worldSize;
    private final int[] owners;
    private final long[] elementsPerRank;

    private ParameterShards(int worldSize, int[] owners, long[] elementsPerRank) {
        this.worldSize = worldSize;
        this.owners = owners;
        this.elementsPerRank = elementsPerRank;
    }

    static ParameterShards of(List<Integer> sizes, int worldSize) {
        if (worldSize < 1) {
            throw new IllegalArgumentException("ranks must be at least 1, not " + worldSize);
        }
        int[] owners = new int[sizes.size()];
        long[] load = new long[worldSize];
        Integer[] order = IntStream.range(0, sizes.size()).boxed()
                .sorted(Comparator.<Integer>comparingInt(i -> sizes.get(i)).reversed().thenComparingInt(i -> i))
                .toArray(Integer[]::new);
        for (int i : order) {
            int least = 0;
            for (int r = 1; r < worldSize; r++) {
                if (load[r] < load[least]) {
                    least = r;
                }
            }
            owners[i] = least;
            load[least] += sizes.get(i);
        }
        return new ParameterShards(worldSize, owners, load);
    }

    int worldSize() {
        return worldSize;
    }

    /** Elements of the parameters rank {@code rank} owns. */
    long elementsOf(int rank) {
        return elementsPerRank[rank];
    }

    int owner(int parameter) {
        return owners[parameter];
    }

    boolean owns(int rank, int parameter) {
        return owners[parameter] == rank;
    }

    /** The largest share: what sizes the per-GPU optimizer state. */
    long largestShare() {
        return Arrays.stream(elementsPerRank).max().orElse(0);
    }
}

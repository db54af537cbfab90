package dev.octet.dist;

import java.util.Optional;

/**
 * What the ranks of a data-parallel run exchange in a step: their losses, each parameter's gradient summed at
 * the rank that owns it (each rank has back-propagated its share of the step's micro-batches), and the
 * parameters each owner updated for all of them (the owner alone keeps a parameter's summed gradient and AdamW
 * moments). Sums are taken in rank order, so the ranks agree to the bit. Between processes: {@link HostCollectives}.
 */
public interface GradientExchange {
    int rank();

    int worldSize();

    /** Replaces {@code values} on every rank by the element-wise sum over the ranks, added in rank order. */
    void allReduceSum(double[] values);

    /** Replaces {@code values} on every rank by the element-wise largest over the ranks. */
    void allReduceMax(double[] values);

    /**
     * Replaces {@code values} on rank {@code root} by the element-wise sum over the ranks, added in rank order;
     * the other ranks' arrays are left as they were (a reduce-scatter, parameter by parameter).
     */
    void reduce(double[] values, int root);

    /** Replaces {@code values} on every rank by rank {@code root}'s. */
    void broadcast(float[] values, int root);

    /** Whether {@code mine} is true on any rank: how the ranks agree to stop after the same step. */
    default boolean anyRank(boolean mine) {
        double[] count = {mine ? 1 : 0};
        allReduceSum(count);
        return count[0] > 0;
    }

    /** Rank 0's {@code value}, on every rank (the others' count as zero in the sum, so it arrives exactly). */
    default double fromRankZero(double value) {
        double[] sum = {rank() == 0 ? value : 0};
        allReduceSum(sum);
        return sum[0];
    }

    /** Runs {@code action} when another rank stops (nothing in one process): e.g. aborting NCCL's collectives. */
    default void onRankFailure(Runnable action) {}

    /** The line of the rank that stopped, once one has. */
    default Optional<String> rankFailure() {
        return Optional.empty();
    }

    /** Returns once every rank has called it. */
    default void barrier() {
        allReduceSum(new double[1]);
    }

    /** One process: nothing to exchange. */
    GradientExchange SINGLE = new GradientExchange() {
        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int worldSize() {
            return 1;
        }

        @Override
        public void allReduceSum(double[] values) {}

        @Override
        public void allReduceMax(double[] values) {}

        @Override
        public void reduce(double[] values, int root) {}

        @Override
        public void broadcast(float[] values, int root) {}
    };
}

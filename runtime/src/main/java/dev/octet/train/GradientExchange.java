package dev.octet.train;

/**
 * What the ranks of a data-parallel run exchange in a step: the sum of their gradients and losses (each rank has
 * back-propagated its share of the step's micro-batches), and the parameters each rank updated for all of them
 * ({@link ParameterShards}: every parameter has one owner, which alone keeps its AdamW moments). Sums are taken in
 * rank order, so every rank holds the same bits afterwards.
 */
interface GradientExchange {
    int rank();

    int worldSize();

    /** Replaces {@code values} on every rank by the element-wise sum over the ranks, added in rank order. */
    void allReduceSum(double[] values);

    /** Replaces {@code values} on every rank by rank {@code root}'s. */
    void broadcast(float[] values, int root);

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
        public void broadcast(float[] values, int root) {}
    };
}

package dev.octet.train;

import dev.octet.dist.GradientExchange;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The ranks of a data-parallel run as threads of one process: each rank's {@link GradientExchange} meets the
 * others at a barrier, and sums in rank order exactly as the collective would.
 */
final class SimulatedRanks {
    private final int worldSize;
    private final CyclicBarrier barrier;
    private final Object[] slots;

    SimulatedRanks(int worldSize) {
        this.worldSize = worldSize;
        this.barrier = new CyclicBarrier(worldSize);
        this.slots = new Object[worldSize];
    }

    GradientExchange rank(int rank) {
        return new GradientExchange() {
            @Override
            public int rank() {
                return rank;
            }

            @Override
            public int worldSize() {
                return worldSize;
            }

            @Override
            public void allReduceSum(double[] values) {
                slots[rank] = values;
                await();
                double[] sum = new double[values.length];
                for (int r = 0; r < worldSize; r++) {
                    double[] part = (double[]) slots[r];
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += part[i];
                    }
                }
                await();  // every rank has read every part before any part is overwritten
                System.arraycopy(sum, 0, values, 0, values.length);
            }

            @Override
            public void allReduceMax(double[] values) {
                slots[rank] = values;
                await();
                double[] max = new double[values.length];
                java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
                for (int r = 0; r < worldSize; r++) {
                    double[] part = (double[]) slots[r];
                    for (int i = 0; i < max.length; i++) {
                        max[i] = Math.max(max[i], part[i]);
                    }
                }
                await();
                System.arraycopy(max, 0, values, 0, values.length);
            }

            @Override
            public void reduce(double[] values, int root) {
                slots[rank] = values;
                await();
                double[] sum = null;
                if (rank == root) {
                    sum = new double[values.length];
                    for (int r = 0; r < worldSize; r++) {
                        double[] part = (double[]) slots[r];
                        for (int i = 0; i < sum.length; i++) {
                            sum[i] += part[i];
                        }
                    }
                }
                await();
                if (sum != null) {
                    System.arraycopy(sum, 0, values, 0, values.length);
                }
            }

            @Override
            public void broadcast(float[] values, int root) {
                slots[rank] = values;
                await();
                if (rank != root) {
                    System.arraycopy((float[]) slots[root], 0, values, 0, values.length);
                }
                await();
            }
        };
    }

    private void await() {
        try {
            barrier.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("a simulated rank did not reach the collective", e);
        }
    }
}

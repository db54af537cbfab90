package dev.octet.dist;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import dev.octet.testing.FreePort;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The ranks of a run as threads of one process, each connected as its own process would be, on localhost. */
class HostCollectivesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void sumsAreAddedInRankOrderMaximaTakenAndEveryRankGetsTheSameBits() throws Exception {
        int world = 3, n = 1001;
        double[][] parts = new double[world][n];
        Random random = new Random(5);
        for (double[] part : parts) {
            for (int i = 0; i < n; i++) {
                // Magnitudes far apart, so another order of addition would round differently.
                part[i] = random.nextGaussian() * Math.pow(10, random.nextInt(17) - 8);
            }
        }
        double[] want = new double[n];
        for (double[] part : parts) {
            for (int i = 0; i < n; i++) {
                want[i] += part[i];
            }
        }
        List<double[]> allReduced = onEveryRank(world, c -> {
            double[] values = parts[c.rank()].clone();
            c.allReduceSum(values);
            return values;
        });
        for (double[] got : allReduced) {
            assertArrayEquals(want, got);
        }
        double[] largest = new double[n];
        java.util.Arrays.fill(largest, Double.NEGATIVE_INFINITY);
        for (double[] part : parts) {
            for (int i = 0; i < n; i++) {
                largest[i] = Math.max(largest[i], part[i]);
            }
        }
        for (double[] got : onEveryRank(world, c -> {
            double[] values = parts[c.rank()].clone();
            c.allReduceMax(values);
            return values;
        })) {
            assertArrayEquals(largest, got);
        }
        for (int root = 0; root < world; root++) {
            int r0 = root;
            List<double[]> reduced = onEveryRank(world, c -> {
                double[] values = parts[c.rank()].clone();
                c.reduce(values, r0);
                return values;
            });
            for (int r = 0; r < world; r++) {
                assertArrayEquals(r == root ? want : parts[r], reduced.get(r), "root " + root + ", rank " + r);
            }
        }
    }

    @Test
    void everyRankGetsTheRootsValues() throws Exception {
        int world = 4;
        for (int root = 0; root < world; root++) {
            int r0 = root;
            List<float[]> got = onEveryRank(world, c -> {
                float[] values = new float[300];
                java.util.Arrays.fill(values, c.rank() + 0.5f);
                c.broadcast(values, r0);
                return values;
            });
            float[] want = new float[300];
            java.util.Arrays.fill(want, root + 0.5f);
            for (float[] values : got) {
                assertArrayEquals(want, values, "root " + root);
            }
        }
    }

    @Test
    void aRankThatDiesStopsTheOthersCollectivesWithOneLine() throws Exception {
        // Rank 2's process dies before it joins the sum: its socket closes without a word.
        assertTheOthersStopWith(2, HostCollectives::abandon, "rank 2 stopped: its connection to rank 0 closed");
    }

    @Test
    void aRankThatFailsStopsTheOthersWithItsReason() throws Exception {
        assertTheOthersStopWith(1, c -> c.stop("rank 1 stopped: it failed with exit code 1"),
                "rank 1 stopped: it failed with exit code 1");
    }

    private interface Ending {
        void end(HostCollectives rank) throws IOException;
    }

    /** In a run of 3, the other ranks wait in a sum while rank {@code which} ends by {@code ending}: they hear {@code line}. */
    private static void assertTheOthersStopWith(int which, Ending ending, String line) throws Exception {
        int world = 3;
        List<HostCollectives> ranks = connectAll(world);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<?>> waiting = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                HostCollectives c = ranks.get(r);
                if (r != which) {
                    waiting.add(pool.submit(() -> {
                        c.allReduceSum(new double[] {1});
                        return null;
                    }));
                }
            }
            ending.end(ranks.get(which));
            for (Future<?> f : waiting) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
                assertInstanceOf(RankFailureException.class, e.getCause());
                assertEquals(line, e.getCause().getMessage());
            }
        } finally {
            pool.shutdownNow();
            ranks.forEach(HostCollectives::close);
        }
    }

    @Test
    void oneProcessExchangesNothing() {
        try (HostCollectives single = HostCollectives.single()) {
            double[] values = {1, 2};
            single.allReduceSum(values);
            single.reduce(values, 0);
            assertArrayEquals(new double[] {1, 2}, values);
            assertEquals(1, single.worldSize());
        }
    }

    /** What {@code work} returned on every rank of a run of {@code world}, in rank order. */
    private static <T> List<T> onEveryRank(int world, java.util.function.Function<HostCollectives, T> work) throws Exception {
        List<HostCollectives> ranks = connectAll(world);
        try {
            return inParallel(world, r -> work.apply(ranks.get(r)));
        } finally {
            ranks.forEach(HostCollectives::close);
        }
    }

    private static List<HostCollectives> connectAll(int world) throws Exception {
        int port = FreePort.find();
        return inParallel(world, r -> {
            try {
                return HostCollectives.connect(RankEnvironment.from(RankEnvironment.forLocalRank(r, world, port)), TIMEOUT);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static <T> List<T> inParallel(int world, IntFunction<T> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                futures.add(pool.submit(() -> work.apply(rank)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

}

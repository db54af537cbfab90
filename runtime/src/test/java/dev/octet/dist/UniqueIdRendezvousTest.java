package dev.octet.dist;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Ranks as threads of one process on localhost, each with the environment its own process would have. */
class UniqueIdRendezvousTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void everyRankGetsTheBytesRankZeroCreatedOnce() throws Exception {
        int port = freePort(), world = 4;
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) (i * 7 + 3);
        }
        AtomicInteger created = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<byte[]>> results = new ArrayList<>();
            // Rank 0 last: the others start before it listens and must retry.
            for (int rank = world - 1; rank >= 0; rank--) {
                RankEnvironment env = RankEnvironment.from(RankEnvironment.forLocalRank(rank, world, port));
                results.add(pool.submit(() -> UniqueIdRendezvous.exchange(env, () -> {
                    created.incrementAndGet();
                    return id.clone();
                }, TIMEOUT)));
            }
            for (Future<byte[]> result : results) {
                assertArrayEquals(id, result.get());
            }
            assertEquals(1, created.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRankStartedWithAnotherWorldSizeIsRefusedOnBothSides() throws Exception {
        int port = freePort();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<byte[]> zero = pool.submit(() -> UniqueIdRendezvous.exchange(
                    RankEnvironment.from(RankEnvironment.forLocalRank(0, 2, port)), () -> new byte[128], TIMEOUT));
            Future<byte[]> one = pool.submit(() -> UniqueIdRendezvous.exchange(
                    RankEnvironment.from(RankEnvironment.forLocalRank(1, 3, port)), () -> new byte[128], TIMEOUT));
            assertEquals("rank 0 refused rank 1: rank 1 started with WORLD_SIZE=3, rank 0 with 2", cause(one).getMessage());
            assertEquals("rendezvous refused rank 1 started with WORLD_SIZE=3, rank 0 with 2", cause(zero).getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rankZeroNamesTheRanksThatNeverCame() throws Exception {
        int port = freePort();
        IOException e = assertThrows(IOException.class, () -> UniqueIdRendezvous.exchange(
                RankEnvironment.from(RankEnvironment.forLocalRank(0, 3, port)), () -> new byte[128], Duration.ofMillis(300)));
        assertEquals("ranks 1, 2 did not reach rank 0 at 127.0.0.1:" + port + " within 0.3 s", e.getMessage());
    }

    @Test
    void oneProcessNeedsNoRendezvous() throws IOException {
        assertArrayEquals(new byte[] {1, 2}, UniqueIdRendezvous.exchange(RankEnvironment.single(), () -> new byte[] {1, 2}, TIMEOUT));
    }

    private static Throwable cause(Future<?> future) {
        ExecutionException e = assertThrows(ExecutionException.class, future::get);
        return assertInstanceOf(IOException.class, e.getCause());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

package dev.octet.dist;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import dev.octet.testing.FreePort;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ranks as threads of one process on localhost, each with the environment its own process would have. */
class UniqueIdRendezvousTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void everyRankGetsTheBytesRankZeroCreatedOnce() throws Exception {
        int world = 4;
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) (i * 7 + 3);
        }
        AtomicInteger created = new AtomicInteger();
        List<RankLink> links = joinAll(world, () -> {
            created.incrementAndGet();
            return id.clone();
        });
        for (RankLink link : links) {
            assertArrayEquals(id, link.id());
        }
        assertEquals(1, created.get());
        closeAll(links);
    }

    @Test
    void aRankStartedWithAnotherWorldSizeIsRefusedOnBothSides() throws Exception {
        int port = FreePort.find();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<RankLink> zero = pool.submit(() -> UniqueIdRendezvous.join(
                    RankEnvironment.from(RankEnvironment.forLocalRank(0, 2, port)), () -> new byte[128], TIMEOUT));
            Future<RankLink> one = pool.submit(() -> UniqueIdRendezvous.join(
                    RankEnvironment.from(RankEnvironment.forLocalRank(1, 3, port)), () -> new byte[128], TIMEOUT));
            assertEquals("rank 0 refused rank 1: rank 1 started with WORLD_SIZE=3, rank 0 with 2", cause(one).getMessage());
            assertEquals("rendezvous refused rank 1 started with WORLD_SIZE=3, rank 0 with 2", cause(zero).getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rankZeroNamesTheRanksThatNeverCame() throws Exception {
        int port = FreePort.find();
        IOException e = assertThrows(IOException.class, () -> UniqueIdRendezvous.join(
                RankEnvironment.from(RankEnvironment.forLocalRank(0, 3, port)), () -> new byte[128], Duration.ofMillis(300)));
        assertEquals("ranks 1, 2 did not reach rank 0 at 127.0.0.1:" + port + " within 0.3 s", e.getMessage());
    }

    @Test
    void whenARankDiesEveryOtherRankIsToldWhichOneInOneLine() throws Exception {
        List<RankLink> links = joinAll(3, () -> new byte[128]);
        List<BlockingQueue<String>> heard = watchAll(links);
        links.get(2).abandon();  // rank 2's process dies: its socket closes without a word
        for (int r = 0; r < 2; r++) {
            String line = heard.get(r).poll(10, TimeUnit.SECONDS);
            assertEquals("rank 2 stopped: its connection to rank 0 closed", line, "what rank " + r + " heard");
            assertEquals(line, links.get(r).failure().orElseThrow());
        }
        closeAll(links.subList(0, 2));
    }

    @Test
    void ranksThatCloseInOrderAreNoFailure() throws Exception {
        List<RankLink> links = joinAll(3, () -> new byte[128]);
        List<BlockingQueue<String>> heard = watchAll(links);
        for (int r = 2; r >= 0; r--) {
            links.get(r).close();
        }
        for (int r = 0; r < 3; r++) {
            assertNull(heard.get(r).poll(300, TimeUnit.MILLISECONDS), "rank " + r + " heard of a failure");
            assertTrue(links.get(r).failure().isEmpty());
        }
    }

    @Test
    void oneProcessNeedsNoRendezvous() throws IOException {
        try (RankLink link = UniqueIdRendezvous.join(RankEnvironment.single(), () -> new byte[] {1, 2}, TIMEOUT)) {
            assertArrayEquals(new byte[] {1, 2}, link.id());
        }
    }

    /** Every rank of a run of {@code world} joined, rank 0 last (the others start first and must retry). */
    private static List<RankLink> joinAll(int world, java.util.function.Supplier<byte[]> create) throws Exception {
        int port = FreePort.find();
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<RankLink>> futures = new ArrayList<>();
            for (int rank = world - 1; rank >= 0; rank--) {
                RankEnvironment env = RankEnvironment.from(RankEnvironment.forLocalRank(rank, world, port));
                futures.add(pool.submit(() -> UniqueIdRendezvous.join(env, create, TIMEOUT)));
            }
            List<RankLink> byRank = new ArrayList<>(java.util.Collections.nCopies(world, (RankLink) null));
            for (int i = 0; i < world; i++) {
                byRank.set(world - 1 - i, futures.get(i).get());
            }
            return byRank;
        } finally {
            pool.shutdownNow();
        }
    }

    /** What each rank hears of a failure, in rank order. */
    private static List<BlockingQueue<String>> watchAll(List<RankLink> links) {
        List<BlockingQueue<String>> heard = new ArrayList<>();
        for (RankLink link : links) {
            BlockingQueue<String> q = new ArrayBlockingQueue<>(4);
            heard.add(q);
            link.watch(q::add);
        }
        return heard;
    }

    private static void closeAll(List<RankLink> links) {
        links.forEach(RankLink::close);
    }

    private static Throwable cause(Future<?> future) {
        ExecutionException e = assertThrows(ExecutionException.class, future::get);
        return assertInstanceOf(IOException.class, e.getCause());
    }

}

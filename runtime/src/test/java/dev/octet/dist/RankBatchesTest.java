package dev.octet.dist;

import dev.octet.data.Batch;
import dev.octet.data.BatchSampler;
import dev.octet.data.BrownCorpusFixture;
import dev.octet.data.TokenDataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RankBatchesTest {
    private static final int PER_STEP = 4, BATCH = 2, SEQ = 32, SEED = 7;
    private static TokenDataset dataset;

    @BeforeAll
    static void build() {
        dataset = TokenDataset.build(BrownCorpusFixture.tokens(), 4096);
    }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {1, 2, 4})
    void theRanksSharesOfAStepAreTheOneProcessStepInRankOrder(int world) {
        BatchSampler single = new BatchSampler(dataset.train(), BATCH, SEQ, SEED);
        List<RankBatches> ranks = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            ranks.add(new RankBatches(new BatchSampler(dataset.train(), BATCH, SEQ, SEED), PER_STEP, rank(r, world)));
        }
        for (int step = 0; step < 3; step++) {
            for (RankBatches rank : ranks) {
                for (int i = 0; i < PER_STEP / world; i++) {
                    assertSame(single.next(), rank.next(), "step " + step);
                }
            }
            for (RankBatches rank : ranks) {
                assertEquals(single.position(), rank.position(), "every rank's position at the end of step " + step);
            }
        }
    }

    @Test
    void aPositionSavedWithTwoRanksResumesWithFour() {
        RankBatches two = new RankBatches(new BatchSampler(dataset.train(), BATCH, SEQ, SEED), PER_STEP, rank(0, 2));
        for (int i = 0; i < 2 * PER_STEP / 2; i++) {
            two.next();
        }
        Map<String, String> saved = two.position();
        BatchSampler single = new BatchSampler(dataset.train(), BATCH, SEQ, SEED);
        for (int i = 0; i < 2 * PER_STEP; i++) {
            single.next();
        }
        RankBatches lastOfFour = new RankBatches(BatchSampler.resume(dataset.train(), BATCH, SEQ, saved), PER_STEP, rank(3, 4));
        single.next();
        single.next();
        single.next();
        assertSame(single.next(), lastOfFour.next(), "rank 3 of 4 takes the step's last micro-batch");
    }

    @Test
    void ranksThatCannotShareAStepEvenlyAreRefused() {
        assertEquals("3 GPUs cannot share a step of 4 micro-batches evenly: use a number of GPUs that divides 4, or set the "
                        + "training block's batch so that the accumulation is a multiple of 3",
                assertThrows(IllegalArgumentException.class, () -> RankBatches.shareOf(4, 3)).getMessage());
        assertThrows(IllegalStateException.class, () -> {
            RankBatches r = new RankBatches(new BatchSampler(dataset.train(), BATCH, SEQ, SEED), PER_STEP, rank(0, 2));
            r.next();
            r.position();
        });
    }

    private static RankEnvironment rank(int r, int world) {
        return new RankEnvironment(r, world, r, "127.0.0.1", RankEnvironment.DEFAULT_PORT);
    }

    private static void assertSame(Batch want, Batch got, String what) {
        assertArrayEquals(want.inputs(), got.inputs(), what);
        assertArrayEquals(want.targets(), got.targets(), what);
        assertArrayEquals(want.documentIds(), got.documentIds(), what);
    }
}

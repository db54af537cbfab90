package dev.octet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BatchSamplerTest {

    private static TokenDataset dataset;

    @BeforeAll
    static void build() {
        dataset = TokenDataset.build(BrownCorpusFixture.tokens(), 4096);
    }

    @Test
    void holdsOutEveryFiftiethDocument() {
        TokenSplit validation = dataset.validation();
        assertEquals(10, validation.documentCount());
        assertEquals(490, dataset.train().documentCount());
        assertEquals(BrownCorpusFixture.tokens().tokenCount(), dataset.train().tokenCount() + validation.tokenCount());
        assertTrue(IntStream.range(0, validation.tokenCount()).allMatch(i -> validation.documentId(i) % 50 == 49));
        assertTrue(IntStream.range(0, dataset.train().tokenCount()).noneMatch(i -> dataset.train().documentId(i) % 50 == 49));
    }

    @Test
    void isDeterministicBySeed() {
        List<Batch> a = draw(new BatchSampler(dataset.train(), 8, 64, 42), 5);
        List<Batch> b = draw(new BatchSampler(dataset.train(), 8, 64, 42), 5);
        List<Batch> c = draw(new BatchSampler(dataset.train(), 8, 64, 43), 5);
        assertEquals(a, b);
        assertNotEquals(a, c);
        assertNotEquals(a.get(0), a.get(1));
    }

    @Test
    void targetsAreInputsShiftedByOneAndFollowTheCorpus() {
        TokenSplit train = dataset.train();
        BatchSampler sampler = new BatchSampler(train, 4, 32, 7);
        for (Batch batch : draw(sampler, 20)) {
            for (int row = 0; row < batch.batchSize(); row++) {
                for (int t = 0; t + 1 < batch.sequenceLength(); t++) {
                    assertEquals(batch.input(row, t + 1), batch.target(row, t));
                }
                assertTrue(batch.documentId(row, 0) <= batch.documentId(row, batch.sequenceLength() - 1));
            }
            for (float weight : batch.lossMask()) {
                assertEquals(1f, weight);
            }
        }
    }

    @Test
    void neverReadsPastTheEnd() {
        // A split barely longer than one window forces offsets onto both ends.
        TokenSplit tiny = new TokenSplit(IntStream.range(0, 10).toArray(), new int[10], 1);
        BatchSampler sampler = new BatchSampler(tiny, 16, 8, 1);
        boolean sawFirst = false;
        boolean sawLast = false;
        for (Batch batch : draw(sampler, 50)) {
            for (int row = 0; row < batch.batchSize(); row++) {
                int start = batch.input(row, 0);
                assertTrue(start >= 0 && start <= 1, "offset " + start);
                assertEquals(start + 8, batch.target(row, 7));
                sawFirst |= start == 0;
                sawLast |= start == 1;
            }
        }
        assertTrue(sawFirst && sawLast, "both possible offsets are drawn");
        assertThrows(IllegalArgumentException.class, () -> new BatchSampler(tiny, 1, 10, 1));
    }

    @Test
    void restoredStateContinuesIdentically() {
        BatchSampler original = new BatchSampler(dataset.train(), 8, 64, 2024);
        draw(original, 7);
        SamplerState saved = original.state();
        assertEquals(7, saved.nextBatch());
        List<Batch> continued = draw(original, 5);

        // The state goes through JSON, as it would in a checkpoint.
        Gson gson = new Gson();
        SamplerState reloaded = gson.fromJson(gson.toJson(saved), SamplerState.class);
        assertEquals(saved, reloaded);
        List<Batch> resumed = draw(BatchSampler.resume(dataset.train(), reloaded), 5);
        assertEquals(continued, resumed);
    }

    @Test
    void aPositionOfNamedStringsResumesThroughTheTrainingData() {
        BatchSource original = dataset.trainBatches(8, 64, Long.MIN_VALUE + 3);
        for (int i = 0; i < 7; i++) {
            original.next();
        }
        Map<String, String> position = original.position();
        assertEquals(Map.of(BatchSource.SAMPLER, BatchSampler.KIND, "seed", Long.toString(Long.MIN_VALUE + 3), "batch_size", "8",
                "sequence_length", "64", "next_batch", "7"), position);
        BatchSource resumed = dataset.resumeTrainBatches(8, 64, position);
        for (int i = 0; i < 5; i++) {
            assertEquals(original.next(), resumed.next());
        }
        assertThrows(IllegalArgumentException.class, () -> dataset.resumeTrainBatches(4, 64, position));
        Map<String, String> otherKind = new HashMap<>(position);
        otherKind.put(BatchSource.SAMPLER, "shuffled_sequences");
        assertThrows(IllegalArgumentException.class, () -> dataset.resumeTrainBatches(8, 64, otherKind));
    }

    @Test
    void batchesAreImmutable() {
        Batch batch = new BatchSampler(dataset.validation(), 2, 16, 3).next();
        int before = batch.input(0, 0);
        batch.inputs()[0] = before + 1;
        assertEquals(before, batch.input(0, 0));
        assertEquals(32, batch.tokenCount());
    }

    private static List<Batch> draw(BatchSampler sampler, int count) {
        List<Batch> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            batches.add(sampler.next());
        }
        return batches;
    }
}

package dev.octet.data.packing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import dev.octet.data.Batch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shuffled sampler: a permutation per epoch, deterministic by seed, resumable at the exact sequence. */
class ShuffledSamplerTest {

    /** Sequence i is [i, i, ...]: a batch's first column names the sequences drawn. */
    record Numbered(long count) implements SequenceSource {
        @Override public int sequenceLength() { return 3; }
        @Override public long sequenceCount() { return count; }
        @Override public PackedSequence sequence(long index) {
            int i = Math.toIntExact(index);
            return new PackedSequence(new int[] {i, i, i, i}, new int[4], new boolean[] {true, true, true, true});
        }
    }

    private static List<Integer> drawn(ShuffledSampler sampler, int batches) {
        List<Integer> out = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            Batch batch = sampler.next();
            for (int r = 0; r < batch.batchSize(); r++) {
                out.add(batch.input(r, 0));
            }
        }
        return out;
    }

    @Test
    void permutationsAreBijectionsForEverySize() {
        for (long size = 1; size <= 300; size++) {
            Set<Long> seen = new HashSet<>();
            IndexPermutation p = new IndexPermutation(size, size * 31);
            for (long i = 0; i < size; i++) {
                long v = p.apply(i);
                assertTrue(v >= 0 && v < size);
                seen.add(v);
            }
            assertEquals(size, seen.size(), "size " + size);
        }
        IndexPermutation huge = new IndexPermutation(3_000_000_000_000L, 5);
        assertTrue(huge.apply(2_999_999_999_999L) < 3_000_000_000_000L);
    }

    @Test
    void eachEpochVisitsEverySequenceOnceInANewOrder() {
        List<Integer> order = drawn(ShuffledSampler.start(new Numbered(100), 10, 7), 20);
        List<Integer> first = order.subList(0, 100);
        List<Integer> second = order.subList(100, 200);
        assertEquals(100, new HashSet<>(first).size());
        assertEquals(100, new HashSet<>(second).size());
        assertNotEquals(first, second);
        assertNotEquals(java.util.stream.IntStream.range(0, 100).boxed().toList(), first, "shuffled, not in file order");
    }

    @Test
    void isDeterministicBySeed() {
        assertEquals(drawn(ShuffledSampler.start(new Numbered(57), 4, 1), 30), drawn(ShuffledSampler.start(new Numbered(57), 4, 1), 30));
        assertNotEquals(drawn(ShuffledSampler.start(new Numbered(57), 4, 1), 30), drawn(ShuffledSampler.start(new Numbered(57), 4, 2), 30));
    }

    @Test
    void resumesAtTheExactSequenceThroughAMapAndJson() {
        // 3 rows a batch over 25 sequences: batch 9 ends in epoch 1, batch 8 straddles the epoch boundary.
        SequenceSource data = new Numbered(25);
        List<Integer> straight = drawn(ShuffledSampler.start(data, 3, 42), 20);
        for (int stop : new int[] {0, 1, 8, 9, 17}) {
            ShuffledSampler first = ShuffledSampler.start(data, 3, 42);
            drawn(first, stop);
            String json = new Gson().toJson(first.state().toMap());
            Map<String, Object> restored = new Gson().fromJson(json, new TypeToken<Map<String, Object>>() {}.getType());
            PackedSamplerState state = PackedSamplerState.fromMap(restored);
            assertEquals(first.state(), state);
            assertEquals(straight.subList(3 * stop, 60), drawn(ShuffledSampler.resume(data, 3, state), 20 - stop), "stopped after " + stop);
        }
        PackedSamplerState at = ShuffledSampler.start(data, 3, 42).state();
        assertEquals(Map.of("seed", 42L, "epoch", 0L, "position", 0L, "sequence_count", 25L), at.toMap());
    }

    @Test
    void aStateFromOtherDataOrALossyNumberIsRefused() {
        PackedSamplerState state = ShuffledSampler.start(new Numbered(25), 3, 42).state();
        assertThrows(IllegalArgumentException.class, () -> ShuffledSampler.resume(new Numbered(26), 3, state));
        assertThrows(IllegalArgumentException.class,
                () -> PackedSamplerState.fromMap(Map.of("seed", 1e17 + 1, "epoch", 0, "position", 0, "sequence_count", 25)));
        assertThrows(IllegalArgumentException.class,
                () -> PackedSamplerState.fromMap(Map.of("seed", 1, "epoch", 0, "position", 0.5, "sequence_count", 25)));
        assertThrows(IllegalArgumentException.class, () -> PackedSamplerState.fromMap(Map.of("seed", 1)));
        assertEquals(Long.MIN_VALUE, PackedSamplerState.fromMap(
                Map.of("seed", Long.toString(Long.MIN_VALUE), "epoch", 3L, "position", 4L, "sequence_count", 25L)).seed());
    }
}

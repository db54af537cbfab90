package dev.octet.data.sft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.data.Batch;
import dev.octet.data.packing.PackedSequence;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Several conversations per sequence, each its own document; loss only on assistant tokens of the same one. */
class PackedConversationsTest {

    /** Tokens 100+k of sample k; the last {@code learned} of each are the assistant's. */
    private static RenderedSample sample(int k, int length, int learned) {
        int[] tokens = new int[length];
        boolean[] loss = new boolean[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = 100 + k;
            loss[i] = i >= length - learned;
        }
        return new RenderedSample(tokens, loss);
    }

    @Test
    void packsWholeConversationsWithTheirOwnDocumentIdsAndPads() {
        // seq_len 9 -> rows of 10 tokens: [4, 5] fit, 3 starts a new row, 12 is cut to 10 on its own row.
        PackedConversations packed = PackedConversations.pack(
                List.of(sample(0, 4, 2), sample(1, 5, 3), sample(2, 3, 1), sample(3, 12, 4)), 9, 0);
        assertEquals(3, packed.sequenceCount());
        assertEquals(1, packed.truncated());
        assertEquals(1 + 7, packed.paddingTokens());
        PackedSequence first = packed.sequence(0);
        assertArrayEquals(new int[] {100, 100, 100, 100, 101, 101, 101, 101, 101, 0}, first.tokens());
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1, 1, 1, 2}, first.documentIds());
        PackedSequence second = packed.sequence(1);
        assertArrayEquals(new int[] {102, 102, 102, 0, 0, 0, 0, 0, 0, 0}, second.tokens());
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1, 1, 1, 1, 1}, second.documentIds());
        assertArrayEquals(new int[10], packed.sequence(2).documentIds());

        Batch batch = PackedSequence.batchOf(List.of(first, second));
        // Targets of row 0: positions 2,3 (sample 0's learned tokens 2 and 3 are targets of 1 and 2), and
        // sample 1's learned tokens 6,7,8 (targets of 5,6,7); the boundary 3->4 and the padding never count.
        assertArrayEquals(new float[] {0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, batch.lossMask());
    }
}

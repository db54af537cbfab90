package dev.octet.data.packing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.data.Batch;
import dev.octet.data.tokenfile.TokenFile;
import dev.octet.data.tokenfile.TokenFileWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cutting a token file into sequences: document ids, which targets count, held-out sequences. */
class PackingTest {

    static final int EOD = 99;

    /** Documents of lengths 3, 5, 1, 6, 2, ...: token i of document d is 10*d + i (mod 90), each followed by EOD. */
    static TokenFile file(Path dir, int documents) throws IOException {
        Path path = dir.resolve("docs.tok");
        try (TokenFileWriter w = new TokenFileWriter(path, "test", 100, EOD)) {
            for (int d = 0; d < documents; d++) {
                int length = 1 + (d * 7 + 2) % 6;
                int first = 10 * d;
                w.appendDocument(IntStream.range(0, length).map(i -> (first + i) % 90).toArray());
            }
            w.finish();
        }
        return TokenFile.open(path);
    }

    @Test
    void sequencesOverlapByOneTokenAndCoverTheStream(@TempDir Path dir) throws IOException {
        TokenFile f = file(dir, 40);
        TokenStreamSequences s = new TokenStreamSequences(f, 8);
        assertEquals((f.tokenCount() - 1) / 8, s.sequenceCount());
        for (long k = 0; k < s.sequenceCount(); k++) {
            int[] tokens = s.sequence(k).tokens();
            assertEquals(9, tokens.length);
            for (int i = 0; i < 9; i++) {
                assertEquals(f.token(k * 8 + i), tokens[i]);
            }
        }
    }

    @Test
    void documentIdsChangeAfterEachEndOfDocumentToken(@TempDir Path dir) throws IOException {
        TokenStreamSequences s = new TokenStreamSequences(file(dir, 40), 16);
        for (long k = 0; k < s.sequenceCount(); k++) {
            PackedSequence row = s.sequence(k);
            int[] tokens = row.tokens();
            int[] docs = row.documentIds();
            assertEquals(0, docs[0]);
            for (int i = 1; i < tokens.length; i++) {
                assertEquals(docs[i - 1] + (tokens[i - 1] == EOD ? 1 : 0), docs[i], "sequence " + k + " position " + i);
            }
        }
    }

    @Test
    void noTargetCrossesADocumentAndTheEndOfDocumentTokenIsLearned(@TempDir Path dir) throws IOException {
        TokenStreamSequences s = new TokenStreamSequences(file(dir, 40), 16);
        List<PackedSequence> rows = new ArrayList<>();
        for (long k = 0; k < s.sequenceCount(); k++) {
            rows.add(s.sequence(k));
        }
        Batch batch = PackedSequence.batchOf(rows);
        int masked = 0;
        int learnedEnds = 0;
        for (int r = 0; r < batch.batchSize(); r++) {
            for (int t = 0; t < 16; t++) {
                float weight = batch.lossMask()[r * 16 + t];
                boolean afterEnd = batch.input(r, t) == EOD;
                // The token after an end-of-document token starts another document: never a target.
                assertEquals(afterEnd ? 0f : 1f, weight, "row " + r + " position " + t);
                masked += afterEnd ? 1 : 0;
                learnedEnds += batch.target(r, t) == EOD && weight == 1f ? 1 : 0;
                if (weight == 1f && t + 1 < 16) {
                    assertEquals(batch.documentId(r, t), batch.documentId(r, t + 1));
                }
            }
        }
        assertTrue(masked > 10 && learnedEnds > 10, masked + " masked, " + learnedEnds + " learned ends");
    }

    @Test
    void everyFiftiethSequenceIsHeldOut(@TempDir Path dir) throws IOException {
        TokenStreamSequences all = new TokenStreamSequences(file(dir, 400), 4);
        HeldOutSequences train = HeldOutSequences.train(all);
        HeldOutSequences validation = HeldOutSequences.validation(all);
        assertEquals(all.sequenceCount(), train.sequenceCount() + validation.sequenceCount());
        assertEquals(all.sequenceCount() / 50, validation.sequenceCount());
        // Training index j maps to j + j/49: held-out indices 49, 99, ... are never among them.
        for (long j = 0; j < train.sequenceCount(); j++) {
            long inAll = j + j / 49;
            assertNotEquals(49, inAll % 50);
            assertArrayEquals(all.sequence(inAll).tokens(), train.sequence(j).tokens());
        }
        for (long j = 0; j < validation.sequenceCount(); j++) {
            assertArrayEquals(all.sequence(50 * j + 49).tokens(), validation.sequence(j).tokens());
        }
        HeldOutSequences small = HeldOutSequences.validation(new TokenStreamSequences(file(dir, 3), 4));
        assertEquals(1, small.sequenceCount(), "a small source still holds one out");
    }

    @Test
    void aFileShorterThanOneSequenceIsRefused(@TempDir Path dir) throws IOException {
        TokenFile f = file(dir, 1);
        assertThrows(IllegalArgumentException.class, () -> new TokenStreamSequences(f, (int) f.tokenCount()));
        assertEquals(1, new TokenStreamSequences(f, (int) f.tokenCount() - 1).sequenceCount());
    }
}

package dev.octet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.api.Encoding;
import java.util.OptionalInt;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class VocabularyMapTest {

    private static final Encoding GPT2 = TextCorpus.gpt2Encoding();

    @Test
    void ranksByFrequencyAndBreaksTiesByGpt2Id() {
        // 7 three times, 3 and 5 twice each (tie: 3 first), 9 once; end-of-text once.
        IntStream tokens = IntStream.of(7, 5, 3, 7, 9, 5, 3, 7, TextCorpus.GPT2_END_OF_TEXT);
        VocabularyMap map = VocabularyMap.mostFrequent(tokens, 5);
        assertEquals(5, map.size());
        assertEquals(OptionalInt.of(4), map.unknownId());
        assertEquals(0, map.toDense(7));
        assertEquals(1, map.toDense(3));
        assertEquals(2, map.toDense(5));
        // 9 and end-of-text tie at one count; end-of-text is kept regardless, in the last kept slot.
        assertEquals(3, map.endOfDocumentId());
        assertEquals(4, map.toDense(9));
        assertEquals(4, map.toDense(12345));
        assertThrows(IllegalArgumentException.class, () -> map.toGpt2(4));
    }

    @Test
    void isDeterministic() {
        int[] gpt2 = BrownCorpusFixture.tokens().tokens().limit(200_000).toArray();
        VocabularyMap a = VocabularyMap.mostFrequent(IntStream.of(gpt2), 4096);
        VocabularyMap b = VocabularyMap.mostFrequent(IntStream.of(gpt2), 4096);
        for (int id = 0; id < TextCorpus.GPT2_VOCABULARY_SIZE; id++) {
            assertEquals(a.toDense(id), b.toDense(id));
        }
    }

    @Test
    void roundTripsTextWhoseTokensAreKnown() {
        VocabularyMap map = VocabularyMap.mostFrequent(BrownCorpusFixture.tokens().tokens(), 8192);
        String sentence = "The jury said it did find that many of the laws are too old.";
        int[] gpt2 = GPT2.encodeOrdinary(sentence).toArray();
        int[] dense = map.encode(gpt2);
        assertTrue(IntStream.of(dense).allMatch(id -> id < map.size() - 1), "all common words are known");
        assertEquals(sentence, map.decode(dense, GPT2));
        for (int i = 0; i < gpt2.length; i++) {
            assertEquals(gpt2[i], map.toGpt2(dense[i]));
        }
    }

    @Test
    void unknownTokensDecodeAsAMarker() {
        // Keeps "a", " b" and end-of-text; the unknown id is 3.
        VocabularyMap map = VocabularyMap.mostFrequent(IntStream.of(GPT2.encodeOrdinary("a b").toArray()), 4);
        String decoded = map.decode(map.encode(GPT2.encodeOrdinary("a b zebra").toArray()), GPT2);
        assertTrue(decoded.startsWith("a b<unk>") && !decoded.contains("zebra"), decoded);
    }

    @Test
    void fullSizeIsTheIdentity() {
        VocabularyMap map = VocabularyMap.mostFrequent(IntStream.of(1, 2, 3), 60_000);
        assertTrue(map.isIdentity());
        assertEquals(TextCorpus.GPT2_VOCABULARY_SIZE, map.size());
        assertEquals(OptionalInt.empty(), map.unknownId());
        int[] gpt2 = GPT2.encodeOrdinary("Zymurgy is rare.").toArray();
        assertArrayEquals(gpt2, map.encode(gpt2));
        assertEquals("Zymurgy is rare.", map.decode(map.encode(gpt2), GPT2));
        assertEquals(1.0, map.coverage(IntStream.of(gpt2)));
    }

    @Test
    void vocabularyOf4096CoversAtLeast80PercentOfTheCorpus() {
        // Measured: 83.8% of training and 82.4% of validation tokens; the floor leaves room for
        // small changes to the corpus text.
        TokenDataset dataset = TokenDataset.build(BrownCorpusFixture.tokens(), 4096);
        System.out.printf("vocabulary 4096: coverage train %.4f, validation %.4f%n",
                dataset.trainCoverage(), dataset.validationCoverage());
        assertTrue(dataset.trainCoverage() > 0.80, "train coverage " + dataset.trainCoverage());
        assertTrue(dataset.validationCoverage() > 0.78, "validation coverage " + dataset.validationCoverage());
        assertTrue(dataset.trainCoverage() < 1.0);
    }
}

package dev.octet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextCorpusTest {

    @Test
    void shippedCorpusIsTheBrownCorpusAsPlainEnglish() throws IOException {
        Path file = TextCorpus.exampleFile("brown");
        assertTrue(Files.size(file) > 1_500_000 && Files.size(file) < 6_000_000, "compressed size " + Files.size(file));

        TextCorpus corpus = BrownCorpusFixture.text();
        assertEquals(500, corpus.documents().size(), "one document per Brown sample");
        long characters = corpus.documents().stream().mapToLong(String::length).sum();
        assertTrue(characters > 5_500_000 && characters < 6_500_000, "characters " + characters);
        assertTrue(corpus.documents().getFirst().startsWith("The Fulton County Grand Jury said Friday"));

        String all = String.join("\n", corpus.documents());
        // No part-of-speech tags survive, and common English words dominate.
        assertTrue(!all.contains("/at ") && !all.contains("/nn "), "tags were stripped");
        long words = all.split("\\s+").length;
        long the = java.util.Arrays.stream(all.split("\\s+")).filter(w -> w.equalsIgnoreCase("the")).count();
        assertTrue(words > 900_000 && words < 1_200_000, "words " + words);
        assertTrue(the > 0.04 * words, "'the' is about 6% of English words, got " + the + "/" + words);
    }

    @Test
    void shippedCorpusTokenizesToAPlausibleGpt2Count() {
        TokenizedCorpus tokens = BrownCorpusFixture.tokens();
        long characters = BrownCorpusFixture.text().documents().stream().mapToLong(String::length).sum();
        // GPT-2 BPE averages roughly 4 to 5 characters per token on English prose.
        double charactersPerToken = (double) characters / tokens.tokenCount();
        assertTrue(charactersPerToken > 3.5 && charactersPerToken < 5.5, "characters per token " + charactersPerToken);
        assertEquals(500, tokens.documentCount());
        assertTrue(tokens.tokens().allMatch(id -> id >= 0 && id < TextCorpus.GPT2_VOCABULARY_SIZE));
        assertEquals(500, tokens.tokens().filter(id -> id == TextCorpus.GPT2_END_OF_TEXT).count(), "one end-of-text per document");
        System.out.printf("brown: %d documents, %d characters, %d GPT-2 tokens%n", tokens.documentCount(), characters, tokens.tokenCount());
    }

    @Test
    void twoOrMoreEmptyLinesEndADocument() {
        String text = "First para.\n\nSecond para of doc one.\n\n\nDoc two.\r\n \r\n\t\r\nDoc three.\n\n\n\n\n";
        assertEquals(List.of("First para.\n\nSecond para of doc one.", "Doc two.", "Doc three."), TextCorpus.splitDocuments(text));
        assertEquals(List.of(), TextCorpus.splitDocuments("\n\n\n \n"));
    }

    @Test
    void loadsPlainAndGzippedFilesAlike(@TempDir Path dir) throws IOException {
        String text = "Hello world.\n\n\nA second document, with <|endoftext|> spelled out.\n";
        Path plain = Files.writeString(dir.resolve("tiny.txt"), text);
        Path gzipped = dir.resolve("tiny.txt.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gzipped))) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        TextCorpus a = TextCorpus.load(plain);
        TextCorpus b = TextCorpus.load(gzipped);
        assertEquals(a.documents(), b.documents());
        TokenizedCorpus tokens = a.tokenize();
        assertEquals(2, tokens.documentCount());
        // "Hello world." is [15496, 995, 13] in GPT-2's vocabulary.
        assertArrayEquals(new int[] {15496, 995, 13, TextCorpus.GPT2_END_OF_TEXT}, tokens.document(0));
        // Special-token text inside a document is ordinary text, so end-of-text appears only at the end.
        int[] second = tokens.document(1);
        for (int i = 0; i < second.length - 1; i++) {
            assertTrue(second[i] != TextCorpus.GPT2_END_OF_TEXT);
        }
    }
}

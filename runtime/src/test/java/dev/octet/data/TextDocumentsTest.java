package dev.octet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Streaming documents line by line cuts them exactly where {@link TextCorpus} does. */
class TextDocumentsTest {

    private static List<String> streamed(String text) throws IOException {
        List<String> out = new ArrayList<>();
        TextDocuments.forEach(new BufferedReader(new StringReader(text)), out::add);
        return out;
    }

    @Test
    void agreesWithTheWholeTextRule() throws IOException {
        for (String text : List.of("", "one", "\n\n\nA\n\n\nB\n", "A\n \nB\n\t\n\nC", "  A\n\nB  \n\n \n\nC\r\n\r\n\r\nD",
                "A\n\n", "\n\u00a0\n\nA\n\n\n\nB\n \t \n")) {
            assertEquals(TextCorpus.splitDocuments(text), streamed(text), text);
        }
    }

    @Test
    void agreesOnTheBrownCorpus() throws IOException {
        TextCorpus brown = TextCorpus.loadExample("brown");
        List<String> out = new ArrayList<>();
        try (BufferedReader in = InputFiles.reader(brown.source())) {
            TextDocuments.forEach(in, out::add);
        }
        assertEquals(brown.documents(), out);
    }
}

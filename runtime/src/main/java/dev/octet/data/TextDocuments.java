package dev.octet.data;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * Streams the documents of a text, line by line, by the document rule of {@link TextCorpus}: a run of two or
 * more empty lines (only spaces or tabs) ends a document; documents are stripped and empty ones dropped.
 * What {@link TextCorpus#splitDocuments} does on a whole string, without holding the whole text.
 */
public final class TextDocuments {
    private TextDocuments() {}

    /** Receives each document in order. */
    public interface Sink {
        void accept(String document) throws IOException;
    }

    public static void forEach(BufferedReader in, Sink sink) throws IOException {
        StringBuilder document = new StringBuilder();
        java.util.List<String> emptyRun = new java.util.ArrayList<>();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (isEmpty(line)) {
                emptyRun.add(line);
                continue;
            }
            if (emptyRun.size() >= 2) {
                emit(document, sink);
            } else {
                emptyRun.forEach(empty -> append(document, empty));
            }
            emptyRun.clear();
            append(document, line);
        }
        emit(document, sink);
    }

    /** Lines joined by newlines, as in the text; a single empty line inside a document is kept as it was. */
    private static void append(StringBuilder document, String line) {
        if (!document.isEmpty()) {
            document.append('\n');
        }
        document.append(line);
    }

    private static boolean isEmpty(String line) {
        return line.chars().allMatch(c -> c == ' ' || c == '\t');
    }

    private static void emit(StringBuilder document, Sink sink) throws IOException {
        String text = document.toString().strip();
        document.setLength(0);
        if (!text.isEmpty()) {
            sink.accept(text);
        }
    }
}

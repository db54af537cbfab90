package dev.octet.data.tokenfile;

import com.google.gson.JsonElement;
import dev.octet.data.InputFiles;
import dev.octet.data.TextDocuments;
import dev.octet.data.jsonl.BadRecord;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.jsonl.JsonlRecords;
import dev.octet.data.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * Tokenizes text files into one token file. A {@code .jsonl} (or {@code .jsonl.gz}) input holds one document
 * per record, the string field {@code "text"}; any other input is UTF-8 text (gunzipped when it ends in
 * {@code .gz}) cut into documents by the rule of {@link dev.octet.data.TextCorpus}. Documents keep their
 * order, inputs in the order given.
 */
public final class TokenFileBuilder {

    /** What was written, and the JSONL records skipped (each with file and line). */
    public record Report(TokenFileHeader header, List<BadRecord> skipped) {
        public Report {
            skipped = List.copyOf(skipped);
        }
    }

    /** Documents are encoded this many at a time, in parallel; the file keeps their order. */
    private static final int BATCH = 256;

    private TokenFileBuilder() {}

    /** Total size of the inputs in bytes, as read from disk: what {@code progress} counts towards. */
    public static long inputBytes(List<Path> inputs) throws IOException {
        long total = 0;
        for (Path p : inputs) {
            total += Files.size(p);
        }
        return total;
    }

    /**
     * Writes {@code out}. {@code progress} gets the number of input bytes read so far (compressed bytes for .gz).
     * On any error nothing is left at {@code out}.
     */
    public static Report build(List<Path> inputs, Tokenizer tokenizer, Path out, BadRecordPolicy policy, LongConsumer progress)
            throws IOException {
        List<BadRecord> skipped = new ArrayList<>();
        long[] done = {0};
        try (TokenFileWriter writer = new TokenFileWriter(out, tokenizer.name(), tokenizer.textVocabularySize(), tokenizer.endOfDocumentId())) {
            List<String> batch = new ArrayList<>(BATCH);
            for (Path input : inputs) {
                long before = done[0];
                InputStream counted = new FilterInputStream(Files.newInputStream(input)) {
                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n > 0) {
                            done[0] += n;
                            progress.accept(done[0]);
                        }
                        return n;
                    }
                };
                try (BufferedReader in = InputFiles.reader(input, counted)) {
                    JsonlRecords.Sink<String> sink = document -> {
                        batch.add(document);
                        if (batch.size() == BATCH) {
                            encode(batch, tokenizer, writer);
                        }
                    };
                    if (InputFiles.isJsonl(input)) {
                        skipped.addAll(JsonlRecords.forEach(input, in, policy, TokenFileBuilder::text, sink));
                    } else {
                        TextDocuments.forEach(in, sink::accept);
                    }
                } catch (java.nio.charset.CharacterCodingException e) {
                    throw new IOException(input + ": not UTF-8 text (" + e + ")", e);
                }
                done[0] = before + Files.size(input);
                progress.accept(done[0]);
            }
            encode(batch, tokenizer, writer);
            return new Report(writer.finish(), skipped);
        }
    }

    private static Optional<String> text(JsonElement json, long line, java.util.function.Consumer<String> bad) {
        JsonElement text = json.isJsonObject() ? json.getAsJsonObject().get("text") : null;
        if (text == null || !text.isJsonPrimitive() || !text.getAsJsonPrimitive().isString()) {
            bad.accept("missing string \"text\"");
            return Optional.empty();
        }
        return Optional.of(text.getAsString());
    }

    private static void encode(List<String> batch, Tokenizer tokenizer, TokenFileWriter writer) throws IOException {
        int[][] encoded = batch.parallelStream().map(tokenizer::encode).toArray(int[][]::new);
        for (int[] document : encoded) {
            writer.appendDocument(document);
        }
        batch.clear();
    }
}

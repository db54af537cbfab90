package dev.octet.data.jsonl;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.TypeAdapter;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.octet.data.InputFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a JSONL file (or {@code .jsonl.gz}) record by record: one JSON value per line, blank lines ignored.
 * A record the reader cannot use is a {@link BadRecord}: under {@link BadRecordPolicy#STOP} the first one
 * ends the read with a {@link BadRecordException}, under SKIP each is collected and the read goes on.
 */
public final class JsonlRecords {

    /** Turns one parsed line into a value, or says why it cannot. */
    public interface RecordReader<T> {
        /** The value of the record at {@code line}, or empty with the reason given to {@code bad}. */
        Optional<T> read(JsonElement json, long line, java.util.function.Consumer<String> bad);
    }

    /** What a read produced: the values, and the records skipped. */
    public record Result<T>(List<T> values, List<BadRecord> skipped) {
        public Result {
            values = List.copyOf(values);
            skipped = List.copyOf(skipped);
        }
    }

    private JsonlRecords() {}

    /** Receives each good value as it is read. */
    public interface Sink<T> {
        void accept(T value) throws IOException;
    }

    /** Reads the whole file into memory. */
    public static <T> Result<T> read(Path file, BadRecordPolicy policy, RecordReader<T> reader) throws IOException {
        List<T> values = new ArrayList<>();
        try (BufferedReader in = InputFiles.reader(file)) {
            List<BadRecord> skipped = forEach(file, in, policy, reader, values::add);
            return new Result<>(values, skipped);
        }
    }

    /** Streams the good values of {@code in} (the text of {@code file}) to {@code sink}; returns the records skipped. */
    public static <T> List<BadRecord> forEach(Path file, BufferedReader in, BadRecordPolicy policy, RecordReader<T> reader,
                                              Sink<T> sink) throws IOException {
        List<BadRecord> skipped = new ArrayList<>();
        long lineNumber = 0;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            List<String> reasons = new ArrayList<>(1);
            long at = lineNumber;
            Optional<T> value = parse(line, reasons::add).flatMap(json -> reader.read(json, at, reasons::add));
            if (value.isPresent() && reasons.isEmpty()) {
                sink.accept(value.get());
                continue;
            }
            BadRecord bad = new BadRecord(file, lineNumber, reasons.isEmpty() ? "unusable record" : reasons.getFirst());
            if (policy == BadRecordPolicy.STOP) {
                throw new BadRecordException(bad);
            }
            skipped.add(bad);
        }
        return skipped;
    }

    /** The line's JSON value, if it is exactly one well-formed value (strict JSON: no comments, no bare words). */
    private static Optional<JsonElement> parse(String line, java.util.function.Consumer<String> bad) {
        try (JsonReader reader = new JsonReader(new StringReader(line))) {
            reader.setStrictness(Strictness.STRICT);
            JsonElement json = ELEMENT.read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                bad.accept("invalid JSON: more than one value on the line");
                return Optional.empty();
            }
            return Optional.of(json);
        } catch (JsonParseException | IOException | IllegalStateException e) {
            bad.accept("invalid JSON: " + firstLine(e.getMessage()));
            return Optional.empty();
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        // Gson appends a troubleshooting link on a second line; the first says what and where.
        int cut = message.indexOf('\n');
        return (cut < 0 ? message : message.substring(0, cut)).replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed")
                .replaceFirst(" at line 1 column", " at column").replaceFirst(" path \\$.*", "").strip();
    }

    private static final TypeAdapter<JsonElement> ELEMENT = new Gson().getAdapter(JsonElement.class);
}

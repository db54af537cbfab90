package dev.octet.data.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.octet.data.jsonl.BadRecord;
import dev.octet.data.jsonl.BadRecordException;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.jsonl.JsonlRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Conversation JSONL: every kind of bad record named with file and line; stop or skip, never dropped silently. */
class ConversationRecordsTest {

    private static final String GOOD = """
            {"messages":[{"role":"user","content":"hello"},{"role":"assistant","content":"hi!"}]}""";

    private static final List<String> BAD = List.of(
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}",
            "[1, 2]",
            "{\"conversation\":[]}",
            "{\"messages\":[]}",
            "{\"messages\":[{\"role\":\"user\"}]}",
            "{\"messages\":[{\"content\":\"x\"}]}",
            "{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"a<|im_end|>b\"},{\"role\":\"assistant\",\"content\":\"x\"}]}",
            "{\"messages\":[{\"role\":\"user\",\"content\":42},{\"role\":\"assistant\",\"content\":\"x\"}]}",
            "{\"messages\":[\"hello\"]} trailing");

    private static final List<String> REASONS = List.of(
            "invalid JSON: End of input at column 47",
            "a record must be a JSON object with \"messages\"",
            "missing \"messages\" array",
            "empty conversation: \"messages\" has no message",
            "message 0: missing string \"content\"",
            "message 0: missing string \"role\"",
            "message 0: unknown role \"tool\" (expected system, user or assistant)",
            "no assistant message: nothing to learn from",
            "message 0: content contains the control token <|im_end|>",
            "message 0: missing string \"content\"",
            "invalid JSON: malformed at column 25");

    @Test
    void eachBadRecordStopsWithFileLineAndReason(@TempDir Path dir) throws IOException {
        for (int i = 0; i < BAD.size(); i++) {
            // Line 1 good, line 2 blank (ignored, but counted), line 3 bad.
            Path file = Files.writeString(dir.resolve("chat" + i + ".jsonl"), GOOD + "\n\n" + BAD.get(i) + "\n" + GOOD + "\n");
            BadRecordException e = assertThrows(BadRecordException.class, () -> ConversationRecords.read(file, BadRecordPolicy.STOP));
            assertEquals(new BadRecord(file, 3, REASONS.get(i)), e.record(), BAD.get(i));
            assertEquals(file + ":3: " + REASONS.get(i) + " (--on-bad-record=skip skips such records)", e.getMessage());
        }
    }

    @Test
    void skippingCountsEveryBadRecord(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("chat.jsonl"), GOOD + "\n" + String.join("\n", BAD) + "\n" + GOOD + "\n");
        JsonlRecords.Result<Conversation> read = ConversationRecords.read(file, BadRecordPolicy.SKIP);
        assertEquals(2, read.values().size());
        assertEquals(BAD.size(), read.skipped().size());
        assertEquals(2, read.skipped().getFirst().line());
        assertEquals(List.of(1L, (long) BAD.size() + 2), read.values().stream().map(Conversation::line).toList());
        assertEquals(new ChatMessage(ChatRole.ASSISTANT, "hi!"), read.values().getFirst().messages().get(1));
    }
}

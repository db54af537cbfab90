package dev.octet.data.sft;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.jsonl.JsonlRecords;

/**
 * Reads conversations from JSONL, one per line: {@code {"messages":[{"role":"user","content":"..."}, ...]}}.
 *
 * <p>A record is bad when it is not JSON, has no non-empty {@code messages} array, a message lacks a string
 * {@code role} or {@code content}, a role is not system, user or assistant, a content spells a ChatML control
 * token (it would end the message early), or no message is the assistant's (nothing would be learned).
 */
public final class ConversationRecords {
    private ConversationRecords() {}

    public static JsonlRecords.Result<Conversation> read(Path file, BadRecordPolicy policy) throws IOException {
        return JsonlRecords.read(file, policy, ConversationRecords::conversation);
    }

    static Optional<Conversation> conversation(JsonElement json, long line, Consumer<String> bad) {
        if (!json.isJsonObject()) {
            return fail(bad, "a record must be a JSON object with \"messages\"");
        }
        JsonElement messages = json.getAsJsonObject().get("messages");
        if (messages == null || !messages.isJsonArray()) {
            return fail(bad, "missing \"messages\" array");
        }
        if (messages.getAsJsonArray().isEmpty()) {
            return fail(bad, "empty conversation: \"messages\" has no message");
        }
        List<ChatMessage> out = new ArrayList<>();
        int index = 0;
        for (JsonElement m : messages.getAsJsonArray()) {
            String where = "message " + index++ + ": ";
            if (!m.isJsonObject()) {
                return fail(bad, where + "not an object");
            }
            JsonObject message = m.getAsJsonObject();
            Optional<String> role = string(message, "role");
            Optional<String> content = string(message, "content");
            if (role.isEmpty()) {
                return fail(bad, where + "missing string \"role\"");
            }
            if (content.isEmpty()) {
                return fail(bad, where + "missing string \"content\"");
            }
            Optional<ChatRole> known = ChatRole.of(role.get());
            if (known.isEmpty()) {
                return fail(bad, where + "unknown role \"" + role.get() + "\" (expected system, user or assistant)");
            }
            for (String control : ChatMlTemplate.CONTROL_TOKENS) {
                if (content.get().contains(control)) {
                    return fail(bad, where + "content contains the control token " + control);
                }
            }
            out.add(new ChatMessage(known.get(), content.get()));
        }
        if (out.stream().noneMatch(m -> m.role() == ChatRole.ASSISTANT)) {
            return fail(bad, "no assistant message: nothing to learn from");
        }
        return Optional.of(new Conversation(out, line));
    }

    private static Optional<String> string(JsonObject object, String key) {
        JsonElement e = object.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? Optional.of(e.getAsString()) : Optional.empty();
    }

    private static <T> Optional<T> fail(Consumer<String> bad, String reason) {
        bad.accept(reason);
        return Optional.empty();
    }
}

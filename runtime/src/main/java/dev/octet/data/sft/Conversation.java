package dev.octet.data.sft;

import java.util.List;

/** One training conversation and the line of the file it came from. */
public record Conversation(List<ChatMessage> messages, long line) {
    public Conversation {
        messages = List.copyOf(messages);
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("an empty conversation");
        }
    }
}

package dev.octet.data.sft;

import dev.octet.data.tokenizer.Tokenizer;
import java.util.List;
import java.util.stream.IntStream;

/**
 * What a chat model is asked to continue: the ChatML rendering of the messages before an assistant turn,
 * then the opening of that turn, {@code <|im_start|>assistant\n}, tokenized exactly as training rendered it.
 */
public final class GenerationPrompt {
    private GenerationPrompt() {}

    public static int[] tokens(Tokenizer tokenizer, List<ChatMessage> before) {
        ChatMlTemplate template = new ChatMlTemplate(tokenizer);
        int[] history = before.isEmpty() ? new int[0] : template.render(new Conversation(before, 0)).tokens();
        int imStart = tokenizer.specialTokenId(ChatMlTemplate.IM_START).orElseThrow();
        int[] role = tokenizer.encode(ChatRole.ASSISTANT.label() + "\n");
        return IntStream.concat(IntStream.concat(IntStream.of(history), IntStream.of(imStart)), IntStream.of(role)).toArray();
    }
}

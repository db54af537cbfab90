package dev.octet.eval;

import dev.octet.decode.BatchedGreedyDecoder;
import dev.octet.decode.DecodeStep;
import dev.octet.data.arithmetic.FinalAnswer;
import dev.octet.data.sft.ChatMessage;
import dev.octet.data.sft.ChatMlTemplate;
import dev.octet.data.sft.ChatRole;
import dev.octet.data.sft.Conversation;
import dev.octet.data.sft.GenerationPrompt;
import dev.octet.data.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * Exact match on the final answer: for each conversation, the model greedily continues the messages before
 * its last assistant message, and is right when the last {@code The answer is N.} of what it wrote names the
 * same N as the reference's. Only the final number counts, not the worked steps. Conversations are decoded
 * as many at a time as the decoder has slots; progress reports them as they finish, the report keeps their order.
 */
public final class FinalAnswerEval {
    private FinalAnswerEval() {}

    public static AnswerReport run(DecodeStep decoder, Tokenizer tokenizer, List<Conversation> conversations,
                                   int maxNewTokens, Consumer<AnswerExample> progress) {
        int stop = tokenizer.specialTokenId(ChatMlTemplate.IM_END)
                .orElseThrow(() -> new IllegalArgumentException("the tokenizer " + tokenizer.name() + " has no " + ChatMlTemplate.IM_END));
        List<int[]> prompts = new ArrayList<>();
        List<Integer> expected = new ArrayList<>();
        for (Conversation c : conversations) {
            List<ChatMessage> messages = c.messages();
            int last = lastAssistant(messages);
            OptionalInt answer = FinalAnswer.in(messages.get(last).content());
            if (answer.isEmpty()) {
                throw new IllegalArgumentException("line " + c.line() + ": the reference answer has no '"
                        + FinalAnswer.sentence(0).replace("0", "N") + "'");
            }
            int[] prompt = GenerationPrompt.tokens(tokenizer, messages.subList(0, last));
            if (prompt.length >= decoder.context()) {
                throw new IllegalArgumentException("line " + c.line() + ": the prompt's " + prompt.length
                        + " tokens leave no room within the context of " + decoder.context());
            }
            prompts.add(prompt);
            expected.add(answer.getAsInt());
        }
        AnswerExample[] examples = new AnswerExample[conversations.size()];
        int[] correct = {0};
        long[] generated = {0};
        long start = System.nanoTime();
        BatchedGreedyDecoder.generate(decoder, prompts, stop, maxNewTokens, (i, g) -> {
            List<ChatMessage> messages = conversations.get(i).messages();
            int last = lastAssistant(messages);
            String text = tokenizer.decode(g.tokens());
            OptionalInt answer = FinalAnswer.in(text);
            boolean right = answer.isPresent() && answer.getAsInt() == expected.get(i);
            correct[0] += right ? 1 : 0;
            generated[0] += g.tokens().length + (g.stopped() ? 1 : 0);
            examples[i] = new AnswerExample(lastUser(messages.subList(0, last)), messages.get(last).content(), text,
                    g.stopped(), right);
            progress.accept(examples[i]);
        });
        return new AnswerReport(conversations.size(), correct[0], generated[0], (System.nanoTime() - start) / 1e9,
                List.of(examples));
    }

    private static int lastAssistant(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == ChatRole.ASSISTANT) {
                return i;
            }
        }
        throw new IllegalArgumentException("a conversation without an assistant message");
    }

    private static String lastUser(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == ChatRole.USER) {
                return messages.get(i).content();
            }
        }
        return "";
    }
}

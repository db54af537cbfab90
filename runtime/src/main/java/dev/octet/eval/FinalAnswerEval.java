package dev.octet.eval;

import dev.octet.cpu.decode.GreedyDecoder;
import dev.octet.cpu.decode.IncrementalForward;
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
 * same N as the reference's. Only the final number counts, not the worked steps.
 */
public final class FinalAnswerEval {
    private FinalAnswerEval() {}

    public static AnswerReport run(IncrementalForward forward, int maxSeq, Tokenizer tokenizer, List<Conversation> conversations,
                                   int maxNewTokens, Consumer<AnswerExample> progress) {
        int stop = tokenizer.specialTokenId(ChatMlTemplate.IM_END)
                .orElseThrow(() -> new IllegalArgumentException("the tokenizer " + tokenizer.name() + " has no " + ChatMlTemplate.IM_END));
        List<AnswerExample> examples = new ArrayList<>();
        int correct = 0;
        long generated = 0;
        long start = System.nanoTime();
        for (Conversation c : conversations) {
            List<ChatMessage> messages = c.messages();
            int last = lastAssistant(messages);
            String reference = messages.get(last).content();
            OptionalInt expected = FinalAnswer.in(reference);
            if (expected.isEmpty()) {
                throw new IllegalArgumentException("line " + c.line() + ": the reference answer has no '"
                        + FinalAnswer.sentence(0).replace("0", "N") + "'");
            }
            int[] prompt = GenerationPrompt.tokens(tokenizer, messages.subList(0, last));
            int budget = Math.min(maxNewTokens, maxSeq - prompt.length);
            if (budget < 1) {
                throw new IllegalArgumentException("line " + c.line() + ": the prompt's " + prompt.length
                        + " tokens leave no room within max_seq = " + maxSeq);
            }
            GreedyDecoder.Generation g = GreedyDecoder.generate(forward, prompt, stop, budget, maxSeq);
            String text = tokenizer.decode(g.tokens());
            boolean right = FinalAnswer.in(text).equals(expected);
            correct += right ? 1 : 0;
            generated += g.tokens().length + (g.stopped() ? 1 : 0);
            AnswerExample example = new AnswerExample(lastUser(messages.subList(0, last)), reference, text, g.stopped(), right);
            examples.add(example);
            progress.accept(example);
        }
        return new AnswerReport(conversations.size(), correct, generated, (System.nanoTime() - start) / 1e9, examples);
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

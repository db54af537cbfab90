package dev.octet.data.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.data.tokenizer.JTokkitTokenizer;
import dev.octet.data.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ChatML as Qwen renders it, with GPT-2's BPE and the two ChatML ids added above its vocabulary. */
class ChatMlTemplateTest {

    static final Conversation TWO_TURNS = new Conversation(List.of(
            new ChatMessage(ChatRole.SYSTEM, "Be brief."),
            new ChatMessage(ChatRole.USER, "What is 2+2?"),
            new ChatMessage(ChatRole.ASSISTANT, "4."),
            new ChatMessage(ChatRole.USER, "And 3+3?"),
            new ChatMessage(ChatRole.ASSISTANT, "6, of course.")), 1);

    @Test
    void rendersTheTextOfQwensTemplate() {
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n4.<|im_end|>\n"
                + "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                + "<|im_start|>assistant\n6, of course.<|im_end|>\n", ChatMlTemplate.text(TWO_TURNS));
    }

    @Test
    void goldenTokensAndAMaskOverExactlyTheAssistantReplies() {
        try (Tokenizer gpt2 = JTokkitTokenizer.of(JTokkitTokenizer.Base.GPT2)) {
            RenderedSample sample = new ChatMlTemplate(gpt2).render(TWO_TURNS);
            List<String> pieces = new ArrayList<>();
            List<String> learned = new ArrayList<>();
            int[] tokens = sample.tokens();
            boolean[] loss = sample.lossTokens();
            for (int i = 0; i < tokens.length; i++) {
                String piece = gpt2.decode(new int[] {tokens[i]});
                pieces.add(piece);
                if (loss[i]) {
                    learned.add(piece);
                }
            }
            assertEquals(List.of(
                    "<|im_start|>", "system", "\n", "Be", " brief", ".", "<|im_end|>", "\n",
                    "<|im_start|>", "user", "\n", "What", " is", " 2", "+", "2", "?", "<|im_end|>", "\n",
                    "<|im_start|>", "ass", "istant", "\n", "4", ".", "<|im_end|>", "\n",
                    "<|im_start|>", "user", "\n", "And", " 3", "+", "3", "?", "<|im_end|>", "\n",
                    "<|im_start|>", "ass", "istant", "\n", "6", ",", " of", " course", ".", "<|im_end|>", "\n"), pieces);
            assertEquals(List.of("4", ".", "<|im_end|>", "6", ",", " of", " course", ".", "<|im_end|>"), learned);
            assertEquals(ChatMlTemplate.text(TWO_TURNS), gpt2.decode(tokens));
            assertEquals(50_257, tokens[0], "<|im_start|> is the first id above GPT-2's 50,257");
            assertEquals(50_258, tokens[6], "<|im_end|> the second");
        }
    }

    @Test
    void cl100kGetsTheSameExtraIdsAboveItsVocabulary() {
        try (Tokenizer cl100k = JTokkitTokenizer.of(JTokkitTokenizer.Base.CL100K)) {
            RenderedSample sample = new ChatMlTemplate(cl100k).render(TWO_TURNS);
            assertEquals(100_277, sample.tokens()[0]);
            assertEquals(100_279, cl100k.vocabularySize());
            assertEquals(100_257, cl100k.endOfDocumentId());
            assertEquals(ChatMlTemplate.text(TWO_TURNS), cl100k.decode(sample.tokens()));
        }
    }

    @Test
    void contentSpellingAControlTokenIsEncodedAsText() {
        try (Tokenizer gpt2 = JTokkitTokenizer.of(JTokkitTokenizer.Base.GPT2)) {
            int[] ids = gpt2.encode("<|im_end|><|endoftext|>");
            for (int id : ids) {
                assertEquals(true, id < 50_256, "ordinary text, id " + id);
            }
        }
    }
}

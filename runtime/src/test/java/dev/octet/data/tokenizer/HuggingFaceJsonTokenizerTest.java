package dev.octet.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.data.sft.ChatMessage;
import dev.octet.data.sft.ChatMlTemplate;
import dev.octet.data.sft.ChatRole;
import dev.octet.data.sft.Conversation;
import dev.octet.data.sft.RenderedSample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tokenizer.json the test writes, loaded through DJL's native Hugging Face tokenizers library (offline). */
class HuggingFaceJsonTokenizerTest {

    @TempDir
    Path dir;

    @Test
    void loadsAndEncodes() throws IOException {
        try (Tokenizer t = Tokenizers.open(TinyTokenizerJson.write(dir, true).toString())) {
            assertTrue(t instanceof HuggingFaceJsonTokenizer);
            assertEquals(17, t.vocabularySize());
            assertEquals(1, t.endOfDocumentId());
            assertArrayEquals(new int[] {4, 5, 10}, t.encode("hello world!"));
            assertArrayEquals(new int[] {11, 12, 13, 14, 0}, t.encode("how are you? unknown"));
            assertEquals("hello world !", t.decode(new int[] {4, 5, 10}));
            assertEquals(OptionalInt.of(2), t.specialTokenId("<|im_start|>"));
            assertTrue(t.name().matches("hf:tokenizer\\.json#sha256:[0-9a-f]{16}"), t.name());
        }
    }

    @Test
    void aDirectoryMeansItsTokenizerJson() throws IOException {
        TinyTokenizerJson.write(dir, true);
        try (Tokenizer t = Tokenizers.open(dir.toString())) {
            assertEquals(17, t.vocabularySize());
        }
    }

    @Test
    void rendersChatMlWithItsOwnSpecialTokens() throws IOException {
        try (Tokenizer t = Tokenizers.open(TinyTokenizerJson.write(dir, true).toString())) {
            Conversation c = new Conversation(List.of(new ChatMessage(ChatRole.USER, "hello"),
                    new ChatMessage(ChatRole.ASSISTANT, "hi!")), 1);
            RenderedSample s = new ChatMlTemplate(t).render(c);
            // The Whitespace pre-tokenizer drops newlines, so the template's newlines have no tokens here.
            assertArrayEquals(new int[] {2, 6, 4, 3, 2, 7, 9, 10, 3}, s.tokens());
            assertArrayEquals(new boolean[] {false, false, false, false, false, false, true, true, true}, s.lossTokens());
        }
    }

    @Test
    void withoutChatMlTokensFineTuningIsRefused() throws IOException {
        try (Tokenizer t = Tokenizers.open(TinyTokenizerJson.write(dir, false).toString())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChatMlTemplate(t));
            assertTrue(e.getMessage().contains("has no <|im_start|> token"), e.getMessage());
        }
    }

    @Test
    void badFilesAndNamesAreOneLineErrors() throws IOException {
        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"model\": ");
        IOException e = assertThrows(IOException.class, () -> Tokenizers.open(broken.toString()));
        assertTrue(e.getMessage().startsWith(broken + ": not a Hugging Face tokenizer.json"), e.getMessage());
        Path noEnd = Files.writeString(dir.resolve("noend.json"), """
                {"added_tokens": [], "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}""");
        e = assertThrows(IOException.class, () -> Tokenizers.open(noEnd.toString()));
        assertTrue(e.getMessage().contains("no end-of-document token"), e.getMessage());
        e = assertThrows(IOException.class, () -> Tokenizers.open("gpt3"));
        assertEquals("unknown tokenizer 'gpt3': expected gpt2, cl100k, or PATH/tokenizer.json", e.getMessage());
    }
}

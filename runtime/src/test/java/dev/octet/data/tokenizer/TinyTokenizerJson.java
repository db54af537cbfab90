package dev.octet.data.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Hugging Face tokenizer.json written by the tests: a WordLevel model over a few words, split on
 * whitespace and punctuation, with {@code <|endoftext|>} and, optionally, ChatML's tokens as added tokens.
 */
public final class TinyTokenizerJson {
    private TinyTokenizerJson() {}

    public static final List<String> WORDS = List.of("[UNK]", "<|endoftext|>", "<|im_start|>", "<|im_end|>",
            "hello", "world", "user", "assistant", "system", "hi", "!", "how", "are", "you", "?", "fine", ".");

    public static Path write(Path dir, boolean chatMl) throws IOException {
        StringBuilder vocab = new StringBuilder();
        List<String> added = new ArrayList<>();
        for (int id = 0; id < WORDS.size(); id++) {
            String word = WORDS.get(id);
            boolean control = word.startsWith("<|im_");
            if (control && !chatMl) {
                continue;
            }
            vocab.append(vocab.isEmpty() ? "" : ", ").append('"').append(word).append("\": ").append(id);
            if (id <= 3) {
                added.add("{\"id\": " + id + ", \"content\": \"" + word + "\", \"single_word\": false, \"lstrip\": false,"
                        + " \"rstrip\": false, \"normalized\": false, \"special\": true}");
            }
        }
        String json = """
                {
                  "version": "1.0",
                  "truncation": null,
                  "padding": null,
                  "added_tokens": [%s],
                  "normalizer": null,
                  "pre_tokenizer": {"type": "Whitespace"},
                  "post_processor": null,
                  "decoder": null,
                  "model": {"type": "WordLevel", "vocab": {%s}, "unk_token": "[UNK]"}
                }
                """.formatted(String.join(", ", added), vocab);
        Path file = dir.resolve(chatMl ? "tokenizer.json" : "plain-tokenizer.json");
        Files.writeString(file, json);
        return file;
    }
}

package dev.octet.data.tokenizer;

import java.util.OptionalInt;

/**
 * Text to token ids and back. Ids run over {@code 0 .. vocabularySize()-1}.
 *
 * <p>{@link #encode} treats its text as ordinary text: where the tokenizer allows it, a string that spells
 * a special token is not turned into that token, so training text cannot inject control tokens. Special
 * tokens are placed by id, through {@link #specialTokenId}.
 */
public sealed interface Tokenizer extends AutoCloseable permits JTokkitTokenizer, HuggingFaceJsonTokenizer {

    /** What a token file records as its tokenizer, e.g. {@code gpt2} or {@code hf:tokenizer.json#sha256:1a2b...}. */
    String name();

    int vocabularySize();

    /**
     * The ids that ordinary text and the end-of-document token can take: {@code 0 .. textVocabularySize()-1}.
     * What a pretraining token file holds, and so what a model trained on one must cover; ids above it (the
     * ChatML tokens a tokenizer lacks and Octet adds) appear only in conversations.
     */
    default int textVocabularySize() {
        return vocabularySize();
    }

    int[] encode(String text);

    String decode(int[] ids);

    /** The id of a special token spelled {@code text} (e.g. {@code <|im_end|>}), if the tokenizer has one. */
    OptionalInt specialTokenId(String text);

    /** The token that ends every document in a token file. */
    int endOfDocumentId();

    /** Releases native memory, if any. */
    @Override
    void close();
}

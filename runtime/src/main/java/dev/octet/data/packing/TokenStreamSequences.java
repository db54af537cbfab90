package dev.octet.data.packing;

import dev.octet.data.tokenfile.TokenFile;
import dev.octet.data.tokenfile.TokenFileHeader;
import java.util.Locale;
import java.util.Optional;

/**
 * A token file cut into sequences: sequence k is tokens {@code [k·T, k·T + T]}, so consecutive sequences share
 * one token and every token but the first is a target exactly once. A trailing remainder shorter than a
 * sequence is not used. Document ids count end-of-document tokens from the start of the sequence: the token
 * after an end-of-document token starts a new document, and attention does not cross it.
 */
public record TokenStreamSequences(TokenFile file, int sequenceLength) implements SequenceSource {

    public TokenStreamSequences {
        if (sequenceLength < 1) {
            throw new IllegalArgumentException("sequence length " + sequenceLength);
        }
        if (file.tokenCount() < sequenceLength + 1L) {
            throw new IllegalArgumentException(file.path() + ": " + file.tokenCount() + " tokens, fewer than one sequence of "
                    + (sequenceLength + 1));
        }
    }

    /** The token file's own CRC32C of its tokens (format version 2; version 1 has none). */
    @Override
    public Optional<String> checksum() {
        TokenFileHeader h = file.header();
        return h.hasChecksum() ? Optional.of(String.format(Locale.ROOT, "tokens crc32c %08x", h.tokensChecksum())) : Optional.empty();
    }

    @Override
    public long sequenceCount() {
        return (file.tokenCount() - 1) / sequenceLength;
    }

    @Override
    public PackedSequence sequence(long index) {
        if (index < 0 || index >= sequenceCount()) {
            throw new IndexOutOfBoundsException("sequence " + index + " of " + sequenceCount());
        }
        int endOfDocument = file.header().endOfDocumentId();
        int n = sequenceLength + 1;
        int[] tokens = new int[n];
        int[] documents = new int[n];
        boolean[] loss = new boolean[n];
        long start = index * sequenceLength;
        int document = 0;
        for (int i = 0; i < n; i++) {
            tokens[i] = file.token(start + i);
            documents[i] = document;
            loss[i] = true;
            if (tokens[i] == endOfDocument) {
                document++;
            }
        }
        return new PackedSequence(tokens, documents, loss);
    }
}

package dev.octet.compiler.cuda.embedding;

import java.util.Optional;

/** The shape checks the embedding kernels share. */
final class Embeddings {
    private Embeddings() {}

    static void checkShape(String what, int tokens, int vocab, int dim, Optional<LearnedPositions> positions) {
        if (tokens < 1 || vocab < 1 || dim < 1) {
            throw new IllegalArgumentException(what + ": tokens, vocab and dim must be positive: " + tokens + ", "
                    + vocab + ", " + dim);
        }
        positions.ifPresent(p -> {
            if (tokens % p.seqLen() != 0) {
                throw new IllegalArgumentException(what + ": " + tokens + " tokens are not whole sequences of "
                        + p.seqLen());
            }
        });
    }
}

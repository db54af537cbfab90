package dev.octet.compiler.cuda.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.KernelChecks;
import dev.octet.compiler.cuda.ModelShapes;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EmbeddingKernelsTest {
    static List<ModelShapes> models() {
        return ModelShapes.all();
    }

    @ParameterizedTest
    @MethodSource("models")
    void compileWithoutSpills(ModelShapes m) {
        LearnedPositions positions = new LearnedPositions(m.seqLen(), m.maxSeq());
        KernelChecks.compilesWithoutSpills(
                new EmbeddingForward(m.tokens(), m.vocab(), m.dim()),
                new EmbeddingForward(m.tokens(), m.vocab(), m.dim(), Optional.of(positions)),
                new EmbeddingBackward(m.tokens(), m.vocab(), m.dim()),
                new PositionEmbeddingBackward(m.tokens(), m.dim(), positions));
    }

    @Test
    void dimensionsThatNeedNarrowVectorsAndPartialStripsCompile() {
        KernelChecks.compilesWithoutSpills(
                new EmbeddingForward(6, 11, 100, Optional.of(new LearnedPositions(3, 5))),
                new EmbeddingBackward(70, 11, 100),
                new EmbeddingIdTally(70, 11, true),
                new EmbeddingIdTally(70, 11, false),
                new PositionEmbeddingBackward(6, 100, new LearnedPositions(3, 5)));
    }

    @Test
    void buffersInSignatureOrder() {
        LearnedPositions positions = new LearnedPositions(128, 256);
        assertEquals(List.of("out", "tokens", "table"), KernelChecks.paramNames(new EmbeddingForward(512, 4096, 128)));
        assertEquals(List.of("out", "tokens", "table", "position_table"),
                KernelChecks.paramNames(new EmbeddingForward(512, 4096, 128, Optional.of(positions))));
        EmbeddingBackward backward = new EmbeddingBackward(512, 4096, 128);
        assertEquals(List.of("grad", "dy", "tokens", "first_token", "id_count"), KernelChecks.paramNames(backward));
        // The tally writes what the backward reads, reset first.
        assertEquals(List.of(true, false), backward.tally().stream().map(EmbeddingIdTally::reset).toList());
        for (EmbeddingIdTally tally : backward.tally()) {
            assertEquals(List.of("tokens", "first_token", "id_count"), KernelChecks.paramNames(tally));
        }
        assertEquals(List.of("grad", "dy"), KernelChecks.paramNames(new PositionEmbeddingBackward(512, 128, positions)));
    }

    @Test
    void badShapesAreRefused() {
        var partial = assertThrows(IllegalArgumentException.class,
                () -> new EmbeddingForward(500, 4096, 128, Optional.of(new LearnedPositions(128, 256))));
        assertTrue(partial.getMessage().contains("500 tokens are not whole sequences of 128"), partial.getMessage());
        var tooLong = assertThrows(IllegalArgumentException.class, () -> new LearnedPositions(512, 256));
        assertTrue(tooLong.getMessage().contains("exceeds the position table's 256 rows"), tooLong.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> new EmbeddingBackward(512, 0, 128));
        assertTrue(empty.getMessage().contains("must be positive"), empty.getMessage());
    }

    @Test
    void specsThatDifferHaveDifferentNames() {
        assertTrue(!new EmbeddingForward(512, 4096, 128).kernelName()
                .equals(new EmbeddingForward(512, 4096, 128, Optional.of(new LearnedPositions(128, 256))).kernelName()));
    }
}

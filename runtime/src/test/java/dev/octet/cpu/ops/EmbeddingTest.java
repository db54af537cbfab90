package dev.octet.cpu.ops;

import static dev.octet.cpu.ops.GradCheck.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    private final Random random = new Random(1);

    @Test
    void forwardGathersRows() {
        double[] table = {1, 2, 3, 4, 5, 6}; // V=3, D=2
        double[] out = new double[6];
        Embedding.forward(out, new int[] {2, 0, 2}, table, 3, 3, 2, Rounding.EXACT);
        assertArrayEquals(new double[] {5, 6, 1, 2, 5, 6}, out);
    }

    @Test
    void backwardMatchesFiniteDifferencesAndAccumulates() {
        int V = 5, D = 3, rows = 6;
        int[] ids = {1, 4, 1, 0, 1, 3}; // repeated ids must add up
        double[] table = normal(random, V * D), g = normal(random, rows * D), out = new double[rows * D];
        double[] before = normal(random, V * D), dtable = before.clone();
        Embedding.backward(dtable, g, ids, rows, V, D);
        check("embedding dtable", table, added(dtable, before), () -> {
            Embedding.forward(out, ids, table, rows, V, D, Rounding.EXACT);
            return dot(out, g);
        });
    }

    @Test
    void tiedWeightsAccumulateBothUses() {
        double[] dtable = new double[4];
        Embedding.backward(dtable, new double[] {1, 1}, new int[] {1}, 1, 2, 2);
        Embedding.backward(dtable, new double[] {2, 3}, new int[] {1}, 1, 2, 2);
        assertArrayEquals(new double[] {0, 0, 3, 4}, dtable);
    }

    @Test
    void rejectsOutOfRangeIds() {
        assertThrows(IllegalArgumentException.class,
                () -> Embedding.forward(new double[2], new int[] {3}, new double[6], 1, 3, 2, Rounding.EXACT));
    }

    @Test
    void positionEmbeddingAddsRowOfEachPosition() {
        double[] table = {10, 20, 30, 40, 50, 60}; // maxSeq=3, D=2
        double[] x = {1, 1, 2, 2, 3, 3, 4, 4}; // B=2, T=2
        double[] out = new double[8];
        PositionEmbedding.forward(out, x, table, 2, 2, 3, 2, Rounding.EXACT);
        assertArrayEquals(new double[] {11, 21, 32, 42, 13, 23, 34, 44}, out);
    }

    @Test
    void documentPositionsRestartAtBoundaries() {
        int[] p = PositionEmbedding.documentPositions(new int[] {0, 0, 1, 1, 1, 5, 5, 6}, 2, 4);
        assertArrayEquals(new int[] {0, 1, 0, 1, 0, 0, 1, 0}, p); // a new sequence restarts too
    }

    @Test
    void positionEmbeddingBackwardMatchesFiniteDifferences() {
        int maxSeq = 6, D = 3, rows = 5;
        int[] positions = {0, 3, 3, 5, 1};
        double[] table = normal(random, maxSeq * D), x = normal(random, rows * D), g = normal(random, rows * D);
        double[] out = new double[rows * D], dx = new double[rows * D];
        double[] before = normal(random, maxSeq * D), dtable = before.clone();
        PositionEmbedding.backward(dx, dtable, g, positions, rows, maxSeq, D);
        var loss = (java.util.function.DoubleSupplier) () -> {
            PositionEmbedding.forward(out, x, table, positions, rows, maxSeq, D, Rounding.EXACT);
            return dot(out, g);
        };
        check("position dtable", table, added(dtable, before), loss);
        check("position dx", x, dx, loss);
    }
}

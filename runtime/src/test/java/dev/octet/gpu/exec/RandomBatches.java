package dev.octet.gpu.exec;

import dev.octet.data.Batch;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Seeded batches of random tokens and targets, every target counted, one document per sequence. */
final class RandomBatches {
    private RandomBatches() {}

    static Batch of(int vocab, int batch, int seq, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = batch * seq;
        int[] tokens = new int[n];
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = r.nextInt(vocab);
            targets[i] = r.nextInt(vocab);
        }
        float[] mask = new float[n];
        Arrays.fill(mask, 1f);
        return new Batch(batch, seq, tokens, targets, new int[n], mask);
    }

    /** MicroBatchInputs.of writes the mask into the batch's targets; each use gets its own copy. */
    static Batch copy(Batch b) {
        return new Batch(b.batchSize(), b.sequenceLength(), b.inputs().clone(), b.targets().clone(),
                b.documentIds().clone(), b.lossMask().clone());
    }
}

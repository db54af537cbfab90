package dev.octet.gpu.exec;

import dev.octet.cpu.ops.PositionEmbedding;
import dev.octet.data.Batch;
import java.util.List;

/**
 * What the host writes into a compiled step's INPUT buffers before one micro-batch: token ids, targets with
 * the loss mask folded into their sign (-1 = not counted, as the loss kernels read it), positions restarting
 * at each document start (as the CPU's {@link PositionEmbedding#documentPositions} computes them) and
 * document ids. The loss weight depends on every micro-batch of the step: see {@link #lossWeight}.
 */
public record MicroBatchInputs(int[] tokens, int[] targets, int[] positions, int[] documentIds, int countedTokens) {
    public MicroBatchInputs {
        int n = tokens.length;
        if (targets.length != n || positions.length != n || documentIds.length != n) {
            throw new IllegalArgumentException("every input of a micro-batch needs " + n + " entries");
        }
        tokens = tokens.clone();
        targets = targets.clone();
        positions = positions.clone();
        documentIds = documentIds.clone();
    }

    public static MicroBatchInputs of(Batch b) {
        int[] targets = b.targets();
        float[] mask = b.lossMask();
        int counted = 0;
        for (int i = 0; i < targets.length; i++) {
            if (mask[i] == 0f) {
                targets[i] = -1;
            } else if (mask[i] == 1f) {
                counted++;
            } else {
                // The loss kernels count a token or not; a fractional weight has no place on the device.
                throw new IllegalArgumentException("loss mask " + mask[i] + " at token " + i
                        + ": the compiled step takes masks of 0 or 1 only");
            }
        }
        int[] docs = b.documentIds();
        return new MicroBatchInputs(b.inputs(), targets, PositionEmbedding.documentPositions(docs, b.batchSize(),
                b.sequenceLength()), docs, counted);
    }

    @Override public int[] tokens() { return tokens.clone(); }
    @Override public int[] targets() { return targets.clone(); }
    @Override public int[] positions() { return positions.clone(); }
    @Override public int[] documentIds() { return documentIds.clone(); }

    /**
     * {@code loss_weight} of a step made of {@code microBatches}: 1 / (tokens counted over all of them), so the
     * summed per-token losses are the step's mean loss; 0 when nothing is counted (nothing to learn from).
     */
    public static float lossWeight(List<MicroBatchInputs> microBatches) {
        return lossWeight(countedTokens(microBatches));
    }

    /** The tokens the loss counts over {@code microBatches}. */
    public static long countedTokens(List<MicroBatchInputs> microBatches) {
        return microBatches.stream().mapToLong(MicroBatchInputs::countedTokens).sum();
    }

    /** {@code loss_weight} of a step that counts {@code counted} tokens (over every rank's micro-batches). */
    public static float lossWeight(long counted) {
        return counted == 0 ? 0f : (float) (1.0 / counted);
    }
}

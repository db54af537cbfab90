package dev.octet.cpu.exec;

/**
 * What one forward pass reads: {@code batch} sequences of {@code seqLen} tokens, the next-token targets,
 * a document id per token (attention and positions do not cross documents) and a loss weight per token.
 */
public record TokenBatch(int batch, int seqLen, int[] inputs, int[] targets, int[] documentIds, double[] lossMask) {
    public TokenBatch {
        int n = batch * seqLen;
        if (inputs.length != n || targets.length != n || documentIds.length != n || lossMask.length != n) {
            throw new IllegalArgumentException("batch arrays must hold batch × seqLen = " + n + " entries");
        }
    }

    public int rows() {
        return batch * seqLen;
    }

    public static TokenBatch of(dev.octet.data.Batch b) {
        float[] mask = b.lossMask();
        double[] m = new double[mask.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = mask[i];
        }
        return new TokenBatch(b.batchSize(), b.sequenceLength(), b.inputs(), b.targets(), b.documentIds(), m);
    }
}

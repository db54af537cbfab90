package dev.octet.gpu.kernels;

/**
 * Document ids of packed training sequences, i32[batch·seq], drawn so that the document-mask and position
 * kernels meet every kind of boundary. Ids rise through the batch; a sequence's first document continues the
 * previous sequence's last one (the same id, as a packer splits a long document), so the kernels must restart
 * at the sequence start by themselves. Sequence b follows pattern {@code b % 4}:
 * <ol start="0">
 *   <li>random boundaries, plus one-token documents at the first and at the last token;
 *   <li>random boundaries, plus one on the edge of the first 64-token tile;
 *   <li>no boundary: the whole sequence is one document;
 *   <li>each of the first 64 tokens its own document, then random boundaries.
 * </ol>
 * Sequences must be longer than 64 tokens.
 */
public final class PackedDocuments {
    /** Random boundaries per sequence, besides the pattern's own. */
    public static final int RANDOM_BOUNDARIES = 4;
    private static final int TILE = 64;

    private PackedDocuments() {}

    public static int[] ids(RandomTensors random, int batch, int seq) {
        if (seq <= TILE) {
            throw new IllegalArgumentException("packed documents need sequences of more than " + TILE + " tokens, got " + seq);
        }
        int[] ids = new int[batch * seq];
        int id = 0;
        for (int b = 0; b < batch; b++) {
            boolean[] start = new boolean[seq]; // start[0] stays false: the previous sequence's document goes on
            int pattern = b % 4;
            if (pattern != 2) {
                for (int i = 0; i < RANDOM_BOUNDARIES; i++) {
                    start[1 + random.nextInt(seq - 1)] = true;
                }
            }
            switch (pattern) {
                case 0 -> {
                    start[1] = true;
                    start[seq - 1] = true;
                }
                case 1 -> start[TILE] = true;
                case 3 -> {
                    for (int s = 1; s <= TILE; s++) {
                        start[s] = true;
                    }
                }
                default -> {}
            }
            for (int s = 0; s < seq; s++) {
                id += start[s] ? 1 : 0;
                ids[b * seq + s] = id;
            }
        }
        return ids;
    }
}

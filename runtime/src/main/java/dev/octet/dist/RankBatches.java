package dev.octet.dist;

import dev.octet.data.Batch;
import dev.octet.data.BatchSource;

import java.util.Map;

/**
 * One rank's share of the micro-batches of every optimizer step, drawn from the same global sequence a
 * one-process run draws: of a step's {@code perStep} micro-batches, rank r of N takes the r-th contiguous block
 * of {@code perStep / N}, and skips the others'. So the global batch means what it means on one GPU, every rank
 * reads a different part of it deterministically, and at a step boundary every rank's {@link #position()} is
 * the one-process run's: a checkpoint written there resumes on any number of GPUs that divides the step.
 * Skipped micro-batches are drawn and dropped; the samplers draw a batch by its index, so this costs host time
 * only.
 */
public final class RankBatches implements BatchSource {
    private final BatchSource global;
    private final int share, before, after;
    private int taken;

    /**
     * @param global   the one-process sequence of micro-batches, positioned at a step boundary
     * @param perStep  micro-batches per optimizer step (the training block's accumulation)
     */
    public RankBatches(BatchSource global, int perStep, RankEnvironment rank) {
        this(global, perStep, rank.rank(), rank.worldSize());
    }

    /** As above for rank {@code rank} of {@code worldSize}. */
    public RankBatches(BatchSource global, int perStep, int rank, int worldSize) {
        this.share = shareOf(perStep, worldSize);
        this.global = global;
        this.before = rank * share;
        this.after = (worldSize - 1 - rank) * share;
    }

    /**
     * Micro-batches per rank and step: {@code perStep / worldSize}, refused with one line where the ranks cannot
     * share a step evenly.
     */
    public static int shareOf(int perStep, int worldSize) {
        if (perStep < 1 || worldSize < 1) {
            throw new IllegalArgumentException("micro-batches per step and GPUs must be at least 1, not " + perStep + " and " + worldSize);
        }
        if (perStep % worldSize != 0) {
            throw new IllegalArgumentException(worldSize + " GPUs cannot share a step of " + perStep + " micro-batches evenly: use a number of GPUs that divides "
                    + perStep + ", or set the training block's batch so that the accumulation is a multiple of " + worldSize);
        }
        return perStep / worldSize;
    }

    public int share() {
        return share;
    }

    @Override
    public Batch next() {
        if (taken == 0) {
            skip(before);
        }
        Batch batch = global.next();
        if (++taken == share) {
            skip(after);
            taken = 0;
        }
        return batch;
    }

    /** The global position: at a step boundary, the one a one-process run has there. */
    @Override
    public Map<String, String> position() {
        if (taken != 0) {
            throw new IllegalStateException("a rank's data position is defined at step boundaries only (" + taken + " of "
                    + share + " micro-batches of this step taken)");
        }
        return global.position();
    }

    private void skip(int batches) {
        for (int i = 0; i < batches; i++) {
            global.next();
        }
    }
}

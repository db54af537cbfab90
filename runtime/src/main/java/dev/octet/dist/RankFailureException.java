package dev.octet.dist;

/**
 * Another rank of the run stopped (its process died or failed) while this one waited for it in a collective. The
 * message is one line naming the rank, the same on every surviving rank; the run cannot go on without it, and the
 * last checkpoint written is whole.
 */
public final class RankFailureException extends RuntimeException {
    public RankFailureException(String message) {
        super(message);
    }
}

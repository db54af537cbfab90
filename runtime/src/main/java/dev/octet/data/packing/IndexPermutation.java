package dev.octet.data.packing;

/**
 * A pseudo-random permutation of {@code 0 .. size-1} that needs no table: a four-round Feistel network over
 * the smallest even number of bits that covers {@code size}, walked until it lands inside the range
 * ("cycle walking"). A table of a billion sequence indices would take 8 GB; this takes nothing, and
 * position p of the permutation is computed directly, which is what resuming at an exact position needs.
 */
public record IndexPermutation(long size, long key) {

    private static final int ROUNDS = 4;

    public IndexPermutation {
        if (size < 1) {
            throw new IllegalArgumentException("a permutation of " + size + " elements");
        }
    }

    /** The element at position {@code index}. */
    public long apply(long index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("position " + index + " of " + size);
        }
        int bits = Math.max(2, 64 - Long.numberOfLeadingZeros(size - 1));
        bits += bits & 1;
        int half = bits / 2;
        long mask = (1L << half) - 1;
        long x = index;
        do {
            long left = x >>> half;
            long right = x & mask;
            for (int round = 0; round < ROUNDS; round++) {
                long next = left ^ (mix(right ^ key, round) & mask);
                left = right;
                right = next;
            }
            x = (left << half) | right;
        } while (x >= size); // the domain is at most 4x size, so a few walks at most on average
        return x;
    }

    /** A 64-bit finalizer (MurmurHash3's) over a value and a round number. */
    static long mix(long value, long salt) {
        long z = value + salt * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}

package dev.octet.data.packing;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a {@link ShuffledSampler} stands: in which epoch, at which position of that epoch's order, over how
 * many sequences. The order of an epoch is a permutation keyed by (seed, epoch) alone, so (seed, epoch) is
 * the whole state of the random generator and nothing else needs saving.
 *
 * <p>{@link #toMap} and {@link #fromMap} give plain named integers for a checkpoint. A JSON reader may turn
 * numbers into doubles: fromMap accepts any {@link Number} but refuses one that is not exactly an integer,
 * so a 64-bit seed above 2^53 must be stored as a JSON integer (or a string), not read back through a double.
 */
public record PackedSamplerState(long seed, long epoch, long position, long sequenceCount) {

    public PackedSamplerState {
        if (epoch < 0 || sequenceCount < 1 || position < 0 || position >= sequenceCount) {
            throw new IllegalArgumentException("sampler state at epoch " + epoch + ", position " + position + " of " + sequenceCount);
        }
    }

    public static PackedSamplerState start(long seed, long sequenceCount) {
        return new PackedSamplerState(seed, 0, 0, sequenceCount);
    }

    public Map<String, Long> toMap() {
        Map<String, Long> map = new LinkedHashMap<>();
        map.put("seed", seed);
        map.put("epoch", epoch);
        map.put("position", position);
        map.put("sequence_count", sequenceCount);
        return map;
    }

    public static PackedSamplerState fromMap(Map<String, ?> map) {
        return new PackedSamplerState(integer(map, "seed"), integer(map, "epoch"), integer(map, "position"),
                integer(map, "sequence_count"));
    }

    private static long integer(Map<String, ?> map, String key) {
        Object value = map.get(key);
        return switch (value) {
            case Long l -> l;
            case Integer i -> i;
            case Number n when n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 0x1p53 -> n.longValue();
            case String s -> Long.parseLong(s);
            case null -> throw new IllegalArgumentException("sampler state has no '" + key + "'");
            default -> throw new IllegalArgumentException("sampler state '" + key + "' is not an exact integer: " + value);
        };
    }

    /** The state after one more sequence is drawn: the next position, or the start of the next epoch. */
    PackedSamplerState advance() {
        return position + 1 < sequenceCount ? new PackedSamplerState(seed, epoch, position + 1, sequenceCount)
                : new PackedSamplerState(seed, epoch + 1, 0, sequenceCount);
    }
}

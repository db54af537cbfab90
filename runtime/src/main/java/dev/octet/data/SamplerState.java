package dev.octet.data;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a {@link BatchSampler} needs to continue where it stopped: save it with a checkpoint
 * and pass it to {@link BatchSampler#resume}. Plain numbers, so it serializes as JSON as is; {@link #toMap}
 * and {@link #fromMap} give them as named decimal strings, exact for any 64-bit seed.
 */
public record SamplerState(long seed, int batchSize, int sequenceLength, long nextBatch) {
    public SamplerState {
        if (batchSize < 1 || sequenceLength < 1 || nextBatch < 0) {
            throw new IllegalArgumentException("invalid sampler state " + batchSize + "x" + sequenceLength + " at " + nextBatch);
        }
    }

    public Map<String, String> toMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("seed", Long.toString(seed));
        map.put("batch_size", Integer.toString(batchSize));
        map.put("sequence_length", Integer.toString(sequenceLength));
        map.put("next_batch", Long.toString(nextBatch));
        return map;
    }

    public static SamplerState fromMap(Map<String, String> map) {
        return new SamplerState(Long.parseLong(entry(map, "seed")), Integer.parseInt(entry(map, "batch_size")),
                Integer.parseInt(entry(map, "sequence_length")), Long.parseLong(entry(map, "next_batch")));
    }

    private static String entry(Map<String, String> map, String key) {
        String value = map.get(key);
        if (value == null) {
            throw new IllegalArgumentException("sampler state has no '" + key + "'");
        }
        return value;
    }
}

package dev.octet.data;

import java.util.Map;
import java.util.Optional;

/**
 * What the trainer reads: batches from the training part, and a fixed, seeded series of batches from the
 * held-out part. A text corpus ({@link TokenDataset}), a token file or a conversation file.
 */
public interface TrainingData {

    BatchSource trainBatches(int batchSize, int sequenceLength, long seed);

    /**
     * Training batches that continue exactly where the source that reported {@code position}
     * ({@link BatchSource#position()}) stood, on this same data. Throws IllegalArgumentException when the
     * position is of another kind of data, or does not fit this data or these batch dimensions.
     */
    BatchSource resumeTrainBatches(int batchSize, int sequenceLength, Map<String, String> position);

    BatchSource validationBatches(int batchSize, int sequenceLength, long seed);

    /** A checksum of the data, when it has one ({@link dev.octet.data.packing.SequenceSource#checksum}). */
    default Optional<String> checksum() {
        return Optional.empty();
    }
}

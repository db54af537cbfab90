package dev.octet.data.packing;

import dev.octet.data.BatchSource;
import dev.octet.data.TrainingData;
import java.util.Map;
import java.util.Optional;

/** Training data already cut into packed sequences: a token file or packed conversations. */
public record PackedTrainingData(SequenceSource all) implements TrainingData {

    public SequenceSource train() {
        return HeldOutSequences.train(all);
    }

    public SequenceSource validation() {
        return HeldOutSequences.validation(all);
    }

    @Override
    public BatchSource trainBatches(int batchSize, int sequenceLength, long seed) {
        return ShuffledSampler.start(checked(train(), sequenceLength), batchSize, seed);
    }

    @Override
    public BatchSource resumeTrainBatches(int batchSize, int sequenceLength, Map<String, String> position) {
        return ShuffledSampler.resume(checked(train(), sequenceLength), batchSize, position);
    }

    @Override
    public BatchSource validationBatches(int batchSize, int sequenceLength, long seed) {
        return ShuffledSampler.start(checked(validation(), sequenceLength), batchSize, seed);
    }

    @Override
    public Optional<String> checksum() {
        return all.checksum();
    }

    private static SequenceSource checked(SequenceSource source, int sequenceLength) {
        if (source.sequenceLength() != sequenceLength) {
            throw new IllegalArgumentException("the data was packed for seq_len " + source.sequenceLength() + ", not " + sequenceLength);
        }
        return source;
    }
}

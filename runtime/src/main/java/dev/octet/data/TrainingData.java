package dev.octet.data;

/**
 * What the trainer reads: batches from the training part, and a fixed, seeded series of batches from the
 * held-out part. A text corpus ({@link TokenDataset}), a token file or a conversation file.
 */
public interface TrainingData {

    BatchSource trainBatches(int batchSize, int sequenceLength, long seed);

    BatchSource validationBatches(int batchSize, int sequenceLength, long seed);
}

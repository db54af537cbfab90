package dev.octet.data;

import java.util.stream.IntStream;

/**
 * A tokenized corpus split into training and validation documents, mapped to a small vocabulary.
 *
 * <p>Split rule: every {@code validationEvery}-th document (the one at index validationEvery-1,
 * then 2*validationEvery-1, ...) is held out. With the default of 50 that is 2% of the documents.
 * A stride rather than the tail is used because example corpora are ordered by genre, and the tail
 * would hold out a single genre. The vocabulary is counted on the training documents only, so the
 * validation coverage is an honest estimate.
 */
public final class TokenDataset implements TrainingData {

    public static final int DEFAULT_VALIDATION_EVERY = 50;

    private final VocabularyMap vocabulary;
    private final TokenSplit train;
    private final TokenSplit validation;
    private final double trainCoverage;
    private final double validationCoverage;

    private TokenDataset(VocabularyMap vocabulary, TokenSplit train, TokenSplit validation,
            double trainCoverage, double validationCoverage) {
        this.vocabulary = vocabulary;
        this.train = train;
        this.validation = validation;
        this.trainCoverage = trainCoverage;
        this.validationCoverage = validationCoverage;
    }

    public static TokenDataset build(TokenizedCorpus corpus, int vocabularySize) {
        return build(corpus, vocabularySize, DEFAULT_VALIDATION_EVERY);
    }

    public static TokenDataset build(TokenizedCorpus corpus, int vocabularySize, int validationEvery) {
        if (validationEvery < 2) {
            throw new IllegalArgumentException("validationEvery must be at least 2, got " + validationEvery);
        }
        int documents = corpus.documentCount();
        int[] trainDocuments = IntStream.range(0, documents).filter(d -> !isValidation(d, validationEvery)).toArray();
        int[] validationDocuments = IntStream.range(0, documents).filter(d -> isValidation(d, validationEvery)).toArray();
        if (validationDocuments.length == 0) {
            throw new IllegalArgumentException("a corpus of " + documents + " documents has no validation document at 1 in "
                    + validationEvery);
        }
        VocabularyMap vocabulary = VocabularyMap.mostFrequent(gpt2Tokens(corpus, trainDocuments), vocabularySize);
        return new TokenDataset(vocabulary,
                mapped(corpus, trainDocuments, vocabulary),
                mapped(corpus, validationDocuments, vocabulary),
                vocabulary.coverage(gpt2Tokens(corpus, trainDocuments)),
                vocabulary.coverage(gpt2Tokens(corpus, validationDocuments)));
    }

    private static boolean isValidation(int document, int validationEvery) {
        return document % validationEvery == validationEvery - 1;
    }

    private static IntStream gpt2Tokens(TokenizedCorpus corpus, int[] documents) {
        return IntStream.of(documents).flatMap(d -> IntStream.of(corpus.document(d)));
    }

    private static TokenSplit mapped(TokenizedCorpus corpus, int[] documents, VocabularyMap vocabulary) {
        int length = 0;
        for (int d : documents) {
            length += corpus.document(d).length;
        }
        int[] tokens = new int[length];
        int[] documentIds = new int[length];
        int at = 0;
        for (int d : documents) {
            int[] gpt2 = corpus.document(d);
            for (int id : gpt2) {
                tokens[at] = vocabulary.toDense(id);
                documentIds[at] = d;
                at++;
            }
        }
        return new TokenSplit(tokens, documentIds, documents.length);
    }

    @Override
    public BatchSource trainBatches(int batchSize, int sequenceLength, long seed) {
        return new BatchSampler(train, batchSize, sequenceLength, seed);
    }

    @Override
    public BatchSource validationBatches(int batchSize, int sequenceLength, long seed) {
        return new BatchSampler(validation, batchSize, sequenceLength, seed);
    }

    public VocabularyMap vocabulary() {
        return vocabulary;
    }

    public TokenSplit train() {
        return train;
    }

    public TokenSplit validation() {
        return validation;
    }

    /** Fraction of training tokens that are not the unknown id. */
    public double trainCoverage() {
        return trainCoverage;
    }

    /** Fraction of validation tokens that are not the unknown id. */
    public double validationCoverage() {
        return validationCoverage;
    }
}

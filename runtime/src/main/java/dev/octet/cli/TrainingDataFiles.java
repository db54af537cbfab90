package dev.octet.cli;

import dev.octet.data.InputFiles;
import dev.octet.data.TextCorpus;
import dev.octet.data.TokenDataset;
import dev.octet.data.TrainingData;
import dev.octet.data.jsonl.BadRecord;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.jsonl.JsonlRecords;
import dev.octet.data.packing.PackedTrainingData;
import dev.octet.data.packing.TokenStreamSequences;
import dev.octet.data.sft.ChatMlTemplate;
import dev.octet.data.sft.Conversation;
import dev.octet.data.sft.ConversationRecords;
import dev.octet.data.sft.PackedConversations;
import dev.octet.data.sft.RenderedSample;
import dev.octet.data.tokenfile.TokenFile;
import dev.octet.data.tokenfile.TokenFileHeader;
import dev.octet.data.tokenizer.Tokenizer;
import dev.octet.data.tokenizer.Tokenizers;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Reads a training block's {@code data} by its kind: a token file ({@code .tok}, mode = pretrain), a
 * conversation file ({@code .jsonl} or {@code .jsonl.gz}, mode = sft), or plain text (mode = pretrain; the
 * vocabulary mapped down to the model's, as for the tiny example).
 */
final class TrainingDataFiles {
    private TrainingDataFiles() {}

    /** The data, a line saying what it is, and the records skipped. */
    record Loaded(TrainingData data, String summary, List<BadRecord> skipped) {}

    /** A data file that does not fit the training block; the message is one line. */
    static final class Mismatch extends IOException {
        Mismatch(String message) {
            super(message);
        }
    }

    static Loaded load(Path file, TrainingSpec t, ModelSpec model, String tokenizerName, BadRecordPolicy policy) throws IOException {
        String name = file.getFileName().toString();
        boolean sft = t.mode() == TrainingSpec.Mode.SFT;
        if (name.endsWith(".tok")) {
            if (sft) {
                throw new Mismatch("mode = sft reads conversations from a .jsonl file, not a token file");
            }
            return tokenFile(file, t, model);
        }
        if (InputFiles.isJsonl(file)) {
            if (!sft) {
                throw new Mismatch("a .jsonl file is read as conversations with mode = sft; to pretrain on JSONL text,"
                        + " make a token file with 'octet data tokenize'");
            }
            return conversations(file, t, model, tokenizerName, policy);
        }
        if (sft) {
            throw new Mismatch("mode = sft needs a .jsonl file of conversations");
        }
        TokenDataset data = TokenDataset.build(TextCorpus.load(file).tokenize(), model.config().vocab());
        return new Loaded(data, String.format(Locale.ROOT, "%,d training tokens, %d-token vocabulary covering %.1f%%",
                data.train().tokenCount(), data.vocabulary().size(), 100 * data.trainCoverage()), List.of());
    }

    private static Loaded tokenFile(Path file, TrainingSpec t, ModelSpec model) throws IOException {
        TokenFile tokens = TokenFile.open(file);
        TokenFileHeader h = tokens.header();
        requireFits(h.vocabularySize(), h.tokenizer(), model);
        if (tokens.tokenCount() < 2L * t.seqLen() + 1) {
            throw new Mismatch(String.format(Locale.ROOT, "%,d tokens, too few for two sequences of seq_len %d (one to train, one to hold out)",
                    tokens.tokenCount(), t.seqLen()));
        }
        PackedTrainingData data = new PackedTrainingData(new TokenStreamSequences(tokens, t.seqLen()));
        return new Loaded(data, String.format(Locale.ROOT, "%,d tokens in %,d documents (tokenizer %s); %,d sequences to train, %,d held out%s",
                h.tokenCount(), h.documentCount(), h.tokenizer(), data.train().sequenceCount(), data.validation().sequenceCount(),
                h.hasChecksum() ? "" : "; a version-1 token file, ids checked but without a checksum: tokenize again to add one"),
                List.of());
    }

    private static Loaded conversations(Path file, TrainingSpec t, ModelSpec model, String tokenizerName, BadRecordPolicy policy)
            throws IOException {
        try (Tokenizer tokenizer = Tokenizers.open(tokenizerName)) {
            requireFits(tokenizer.vocabularySize(), tokenizer.name(), model);
            ChatMlTemplate template;
            try {
                template = new ChatMlTemplate(tokenizer);
            } catch (IllegalArgumentException e) {
                throw new Mismatch(e.getMessage());
            }
            JsonlRecords.Result<Conversation> read = ConversationRecords.read(file, policy);
            List<RenderedSample> samples = read.values().stream().map(template::render).toList();
            PackedConversations packed = PackedConversations.pack(samples, t.seqLen(), tokenizer.endOfDocumentId());
            if (packed.sequenceCount() < 2) {
                throw new Mismatch(packed.conversations() + " conversations fill " + packed.sequenceCount()
                        + " sequence(s) of seq_len " + t.seqLen() + "; at least two are needed (one to train, one to hold out)");
            }
            PackedTrainingData data = new PackedTrainingData(packed);
            return new Loaded(data, String.format(Locale.ROOT,
                    "%,d conversations (tokenizer %s, ChatML) packed into %,d sequences (%,d to train, %,d held out), %,d cut to seq_len, %,d skipped",
                    packed.conversations(), tokenizer.name(), packed.sequenceCount(), data.train().sequenceCount(),
                    data.validation().sequenceCount(), packed.truncated(), read.skipped().size()), read.skipped());
        }
    }

    private static void requireFits(int vocabularySize, String tokenizer, ModelSpec model) throws Mismatch {
        if (vocabularySize > model.config().vocab()) {
            throw new Mismatch(String.format(Locale.ROOT, "the tokenizer %s has %,d ids but model '%s' has vocab = %d; raise vocab to at least %d",
                    tokenizer, vocabularySize, model.name(), model.config().vocab(), vocabularySize));
        }
    }
}

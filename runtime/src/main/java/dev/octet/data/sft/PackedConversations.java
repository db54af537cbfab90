package dev.octet.data.sft;

import dev.octet.data.packing.PackedSequence;
import dev.octet.data.packing.SequenceSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Conversations packed into sequences of seq_len + 1 tokens, in file order: each conversation goes whole into
 * the current sequence if it fits, else starts the next one; the unused tail of a sequence is padding (the
 * padding id, a document of its own, no loss). A conversation longer than a sequence is cut to one
 * sequence, and counted in {@link #truncated}. Each conversation of a sequence has its own document id, so
 * attention and targets stay within it.
 */
public final class PackedConversations implements SequenceSource {

    private final int sequenceLength;
    private final List<PackedSequence> sequences;
    private final int conversations;
    private final int truncated;
    private final long paddingTokens;

    private PackedConversations(int sequenceLength, List<PackedSequence> sequences, int conversations, int truncated, long paddingTokens) {
        this.sequenceLength = sequenceLength;
        this.sequences = List.copyOf(sequences);
        this.conversations = conversations;
        this.truncated = truncated;
        this.paddingTokens = paddingTokens;
    }

    public static PackedConversations pack(List<RenderedSample> samples, int sequenceLength, int paddingId) {
        if (sequenceLength < 1) {
            throw new IllegalArgumentException("sequence length " + sequenceLength);
        }
        int n = sequenceLength + 1;
        List<PackedSequence> out = new ArrayList<>();
        int[] tokens = new int[n];
        int[] documents = new int[n];
        boolean[] loss = new boolean[n];
        int used = 0;
        int document = 0;
        int truncated = 0;
        long padding = 0;
        for (RenderedSample s : samples) {
            if (used > 0 && used + s.length() > n) {
                padding += n - used;
                out.add(padded(tokens, documents, loss, used, document, paddingId));
                used = 0;
                document = 0;
            }
            int take = Math.min(s.length(), n - used);
            truncated += take < s.length() ? 1 : 0;
            System.arraycopy(s.tokens(), 0, tokens, used, take);
            System.arraycopy(s.lossTokens(), 0, loss, used, take);
            java.util.Arrays.fill(documents, used, used + take, document);
            used += take;
            document++;
        }
        if (used > 0) {
            padding += n - used;
            out.add(padded(tokens, documents, loss, used, document, paddingId));
        }
        return new PackedConversations(sequenceLength, out, samples.size(), truncated, padding);
    }

    private static PackedSequence padded(int[] tokens, int[] documents, boolean[] loss, int used, int padDocument, int paddingId) {
        java.util.Arrays.fill(tokens, used, tokens.length, paddingId);
        java.util.Arrays.fill(documents, used, tokens.length, padDocument);
        java.util.Arrays.fill(loss, used, tokens.length, false);
        return new PackedSequence(tokens, documents, loss);
    }

    @Override
    public int sequenceLength() {
        return sequenceLength;
    }

    @Override
    public long sequenceCount() {
        return sequences.size();
    }

    @Override
    public PackedSequence sequence(long index) {
        return sequences.get(Math.toIntExact(index));
    }

    /** CRC32C of every packed token and its loss flag, in order: the conversations as training sees them. */
    @Override
    public Optional<String> checksum() {
        CRC32C crc = new CRC32C();
        ByteBuffer row = ByteBuffer.allocate(5 * (sequenceLength + 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (PackedSequence s : sequences) {
            row.clear();
            for (int i = 0; i < s.tokens().length; i++) {
                row.putInt(s.tokens()[i]).put((byte) (s.lossTokens()[i] ? 1 : 0));
            }
            crc.update(row.flip());
        }
        return Optional.of(String.format(Locale.ROOT, "packed conversations crc32c %08x", (int) crc.getValue()));
    }

    public int conversations() {
        return conversations;
    }

    /** Conversations longer than a sequence, cut to fit. */
    public int truncated() {
        return truncated;
    }

    public long paddingTokens() {
        return paddingTokens;
    }
}

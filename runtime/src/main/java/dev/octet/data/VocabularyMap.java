package dev.octet.data;

import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.IntArrayList;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.OptionalInt;
import java.util.stream.IntStream;

/**
 * Maps GPT-2 token ids to the dense ids of a small model vocabulary and back.
 *
 * <p>A vocabulary of size V keeps V-1 GPT-2 ids as dense ids 0..V-2, ordered by frequency in the
 * counted tokens (most frequent first, ties broken by the lower GPT-2 id); every other id maps to
 * the unknown id V-1. The end-of-text token is always kept, even if rarer, because documents are
 * delimited by it. From V = 50,257 on the map is the identity and has no unknown id.
 */
public final class VocabularyMap {

    public static final String UNKNOWN_TEXT = "<unk>";

    private final int size;
    private final int[] toDense;
    private final int[] toGpt2;
    private final boolean identity;

    private VocabularyMap(int size, int[] toDense, int[] toGpt2, boolean identity) {
        this.size = size;
        this.toDense = toDense;
        this.toGpt2 = toGpt2;
        this.identity = identity;
    }

    /** The full GPT-2 vocabulary, unchanged. */
    public static VocabularyMap identity() {
        int[] ids = IntStream.range(0, TextCorpus.GPT2_VOCABULARY_SIZE).toArray();
        return new VocabularyMap(ids.length, ids, ids, true);
    }

    /** Keeps the {@code size - 1} most frequent ids of {@code gpt2Tokens}; see the class comment. */
    public static VocabularyMap mostFrequent(IntStream gpt2Tokens, int size) {
        if (size < 2) {
            throw new IllegalArgumentException("a vocabulary needs at least 2 ids, got " + size);
        }
        if (size >= TextCorpus.GPT2_VOCABULARY_SIZE) {
            return identity();
        }
        long[] counts = new long[TextCorpus.GPT2_VOCABULARY_SIZE];
        gpt2Tokens.forEach(id -> counts[id]++);
        Integer[] byRank = IntStream.range(0, counts.length).boxed()
                .sorted(Comparator.<Integer>comparingLong(id -> -counts[id]).thenComparingInt(id -> id))
                .toArray(Integer[]::new);
        int kept = size - 1;
        int[] toGpt2 = new int[kept];
        for (int rank = 0; rank < kept; rank++) {
            toGpt2[rank] = byRank[rank];
        }
        if (Arrays.stream(toGpt2).noneMatch(id -> id == TextCorpus.GPT2_END_OF_TEXT)) {
            toGpt2[kept - 1] = TextCorpus.GPT2_END_OF_TEXT;
        }
        int unknown = size - 1;
        int[] toDense = new int[TextCorpus.GPT2_VOCABULARY_SIZE];
        Arrays.fill(toDense, unknown);
        for (int dense = 0; dense < kept; dense++) {
            toDense[toGpt2[dense]] = dense;
        }
        return new VocabularyMap(size, toDense, toGpt2, false);
    }

    /** Number of dense ids, the unknown id included; the model's embedding and output width. */
    public int size() {
        return size;
    }

    public boolean isIdentity() {
        return identity;
    }

    public OptionalInt unknownId() {
        return identity ? OptionalInt.empty() : OptionalInt.of(size - 1);
    }

    public int endOfDocumentId() {
        return toDense[TextCorpus.GPT2_END_OF_TEXT];
    }

    public int toDense(int gpt2Id) {
        return toDense[gpt2Id];
    }

    /** The GPT-2 id of a dense id; the unknown id has none and is rejected. */
    public int toGpt2(int denseId) {
        if (!identity && denseId == size - 1) {
            throw new IllegalArgumentException("the unknown id " + denseId + " stands for many GPT-2 ids");
        }
        return toGpt2[denseId];
    }

    public int[] encode(int[] gpt2Ids) {
        int[] dense = new int[gpt2Ids.length];
        for (int i = 0; i < gpt2Ids.length; i++) {
            dense[i] = toDense[gpt2Ids[i]];
        }
        return dense;
    }

    /** Text of dense ids; each unknown id reads as {@value #UNKNOWN_TEXT}. */
    public String decode(int[] denseIds, Encoding gpt2) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        IntArrayList run = new IntArrayList();
        for (int dense : denseIds) {
            if (!identity && dense == size - 1) {
                bytes.writeBytes(gpt2.decodeBytes(run));
                run.clear();
                bytes.writeBytes(UNKNOWN_TEXT.getBytes(StandardCharsets.UTF_8));
            } else {
                run.add(toGpt2[dense]);
            }
        }
        bytes.writeBytes(gpt2.decodeBytes(run));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Fraction of {@code gpt2Tokens} that map to a known dense id. */
    public double coverage(IntStream gpt2Tokens) {
        long[] knownAndTotal = new long[2];
        gpt2Tokens.forEach(id -> {
            knownAndTotal[1]++;
            if (identity || toDense[id] != size - 1) {
                knownAndTotal[0]++;
            }
        });
        return knownAndTotal[1] == 0 ? 1.0 : (double) knownAndTotal[0] / knownAndTotal[1];
    }
}

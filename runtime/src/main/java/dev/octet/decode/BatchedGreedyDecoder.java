package dev.octet.decode;

import java.util.ArrayList;
import java.util.List;

/**
 * Greedy generation for many prompts over a {@link DecodeStep}'s slots, with continuous batching: each slot
 * feeds its prompt token by token, then its own most likely next token, until the stop token, the token limit
 * or the context ends it; the slot then takes the next waiting prompt from position 0. Every sequence sees only
 * its own cache, so the result of each prompt is the same whatever the number of slots — one slot is the plain
 * one-sequence greedy loop.
 */
public final class BatchedGreedyDecoder {
    private BatchedGreedyDecoder() {}

    /** Called as each prompt finishes, with its index in the list and its generation. */
    public interface Finished {
        void accept(int prompt, Generation generation);
    }

    /**
     * Generates at most {@code maxNewTokens} tokens after each prompt, fewer when prompt and generation fill the
     * context first.
     * Results are in prompt order.
     */
    public static List<Generation> generate(DecodeStep step, List<int[]> prompts, int stopToken, int maxNewTokens,
                                            Finished finished) {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("at least one new token must be allowed, got " + maxNewTokens);
        }
        for (int i = 0; i < prompts.size(); i++) {
            int length = prompts.get(i).length;
            if (length < 1 || length >= step.context()) {
                throw new IllegalArgumentException("prompt " + i + " has " + length + " tokens; a prompt needs 1 to "
                        + (step.context() - 1) + " to leave room within the context of " + step.context());
            }
        }
        int slots = step.slots();
        int vocab = step.vocab();
        Generation[] results = new Generation[prompts.size()];
        Slot[] active = new Slot[slots];
        int next = 0;
        int done = 0;
        int[] tokens = new int[slots];
        int[] positions = new int[slots];
        while (done < prompts.size()) {
            for (int s = 0; s < slots; s++) {
                if (active[s] == null && next < prompts.size()) {
                    active[s] = new Slot(next, prompts.get(next++));
                }
                tokens[s] = active[s] == null ? 0 : active[s].token();
                positions[s] = active[s] == null ? 0 : active[s].position;
            }
            float[] logits = step.step(tokens, positions);
            for (int s = 0; s < slots; s++) {
                Slot slot = active[s];
                if (slot == null) {
                    continue;
                }
                slot.position++;
                if (slot.position < slot.prompt.length) {
                    continue;
                }
                int predicted = argmax(logits, s * vocab, vocab);
                Generation g = null;
                if (predicted == stopToken) {
                    g = new Generation(slot.toArray(), true);
                } else {
                    slot.generated.add(predicted);
                    // prompt + generated = position + 1 tokens: a sequence never outgrows the context.
                    if (slot.generated.size() == maxNewTokens || slot.position + 1 >= step.context()) {
                        g = new Generation(slot.toArray(), false);
                    }
                }
                if (g != null) {
                    results[slot.index] = g;
                    finished.accept(slot.index, g);
                    active[s] = null;
                    done++;
                }
            }
        }
        return List.of(results);
    }

    /** The index of the largest of {@code n} values from {@code from}; the lowest index on a tie. */
    public static int argmax(float[] logits, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[from + i] > logits[from + best]) {
                best = i;
            }
        }
        return best;
    }

    /** One prompt being decoded: the prompt, what it generated, and the position fed next. */
    private static final class Slot {
        final int index;
        final int[] prompt;
        final List<Integer> generated = new ArrayList<>();
        int position;

        Slot(int index, int[] prompt) {
            this.index = index;
            this.prompt = prompt;
        }

        int token() {
            return position < prompt.length ? prompt[position] : generated.getLast();
        }

        int[] toArray() {
            return generated.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}

package dev.octet.data.arithmetic;

import java.util.List;

/**
 * A word problem and its arithmetic: a starting count and one to three steps applied to it in order. The
 * worked answer writes one equation per step and then the result:
 * {@code 17 + 25 = 42. 42 - 8 = 34. The answer is 34.}
 */
public record ArithmeticProblem(String question, int start, List<Step> steps) {

    /** An operation and its right operand. */
    public record Step(Operation operation, int operand) {}

    public ArithmeticProblem {
        steps = List.copyOf(steps);
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("a problem needs at least one step");
        }
    }

    public int answer() {
        int value = start;
        for (Step s : steps) {
            value = s.operation().apply(value, s.operand());
        }
        return value;
    }

    /** The assistant's step-by-step answer. */
    public String solution() {
        StringBuilder out = new StringBuilder();
        int value = start;
        for (Step s : steps) {
            int next = s.operation().apply(value, s.operand());
            out.append(value).append(' ').append(s.operation().symbol()).append(' ').append(s.operand())
                    .append(" = ").append(next).append(". ");
            value = next;
        }
        return out.append(FinalAnswer.sentence(value)).toString();
    }

    /**
     * The arithmetic alone, e.g. {@code 17+25-8}: two problems with the same key are the same problem in
     * other words, so the held-out split shares no key with the training split.
     */
    public String key() {
        StringBuilder k = new StringBuilder().append(start);
        for (Step s : steps) {
            k.append(s.operation().symbol()).append(s.operand());
        }
        return k.toString();
    }
}

package dev.octet.eval;

/**
 * One held-out conversation as evaluated: the question (the last user message), the reference answer, what the
 * model generated, whether generation ended with {@code <|im_end|>}, and whether the final answers match.
 */
public record AnswerExample(String question, String reference, String generated, boolean stopped, boolean correct) {}

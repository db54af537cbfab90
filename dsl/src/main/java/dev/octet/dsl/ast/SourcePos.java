package dev.octet.dsl.ast;

/** Where a piece of source text is: 1-based line and column, and its length in characters (at least 1). */
public record SourcePos(String file, int line, int column, int length) {
    public SourcePos {
        length = Math.max(1, length);
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}

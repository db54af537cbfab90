package dev.octet.dsl.ast;

/** {@code name = value}: a setting, or in a {@code forward} block, a named value of the model graph. */
public record Assignment(String name, SourcePos namePos, Expr value, SourcePos pos) implements Item {}

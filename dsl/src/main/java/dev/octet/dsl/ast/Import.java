package dev.octet.dsl.ast;

/** {@code import "path.octet"}: the path is relative to the importing file. */
public record Import(String path, SourcePos pos) {}

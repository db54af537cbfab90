package dev.octet.dsl.ast;

/** What a block body holds: settings and nested blocks. */
public sealed interface Item permits Assignment, Block {
    SourcePos pos();
}

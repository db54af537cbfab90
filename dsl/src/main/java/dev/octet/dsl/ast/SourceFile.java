package dev.octet.dsl.ast;

import java.nio.file.Path;
import java.util.List;

/** One parsed .octet file: its imports and top-level blocks, in source order. */
public record SourceFile(Path path, List<Import> imports, List<Block> blocks) {
    public SourceFile {
        imports = List.copyOf(imports);
        blocks = List.copyOf(blocks);
    }
}

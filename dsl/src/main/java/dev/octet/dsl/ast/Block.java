package dev.octet.dsl.ast;

import java.util.List;
import java.util.Optional;

/**
 * {@code kind label? (for target)? { items }}, e.g. {@code model gpt2_124m { ... }},
 * {@code recipe infir2 { ... }}, {@code repeat layers { ... }}.
 */
public record Block(String kind, SourcePos pos, Optional<Label> label, Optional<Label> target, List<Item> items)
        implements Item {
    public Block {
        items = List.copyOf(items);
    }

    /** A block's name or count: an identifier or an integer, with its position. */
    public record Label(String text, boolean isInteger, SourcePos pos) {}
}

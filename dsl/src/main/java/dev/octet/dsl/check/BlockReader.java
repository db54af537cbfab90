package dev.octet.dsl.check;

import dev.octet.dsl.ast.Assignment;
import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.Expr;
import dev.octet.dsl.ast.Item;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.diag.Suggestions;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the settings of one block against what that kind of block may hold. Unknown and duplicate
 * settings are reported once, up front; the typed getters report wrong types and values out of range
 * and return a harmless fallback so checking can go on and find further errors in the same run.
 */
final class BlockReader {
    private final Block block;
    private final String what;
    private final Diagnostics diagnostics;
    private final Map<String, Assignment> settings = new LinkedHashMap<>();
    private final List<Block> blocks = new ArrayList<>();

    BlockReader(Block block, String what, Set<String> keys, Set<String> blockKinds, Diagnostics diagnostics) {
        this.block = block;
        this.what = what;
        this.diagnostics = diagnostics;
        for (Item item : block.items()) {
            switch (item) {
                case Assignment a -> {
                    if (!keys.contains(a.name())) {
                        diagnostics.error(a.namePos(), "unknown setting '" + a.name() + "' in " + what,
                                Suggestions.nearest(a.name(), union(keys, blockKinds)).map(s -> "did you mean '" + s + "'?")
                                        .orElse("a " + what + " takes: " + String.join(", ", sorted(keys))));
                    } else if (settings.containsKey(a.name())) {
                        diagnostics.error(a.namePos(), "duplicate definition of '" + a.name() + "' in " + what,
                                "first defined at " + settings.get(a.name()).namePos());
                    } else {
                        settings.put(a.name(), a);
                    }
                }
                case Block b -> {
                    if (blockKinds.contains(b.kind())) {
                        blocks.add(b);
                    } else {
                        diagnostics.error(b.pos(), "unexpected block '" + b.kind() + "' in " + what,
                                Suggestions.nearest(b.kind(), union(blockKinds, keys)).map(s -> "did you mean '" + s + "'?")
                                        .orElse(blockKinds.isEmpty() ? "a " + what + " holds only settings (name = value)"
                                                : "blocks allowed here: " + String.join(", ", sorted(blockKinds))));
                    }
                }
            }
        }
    }

    Block block() {
        return block;
    }

    Diagnostics diagnostics() {
        return diagnostics;
    }

    Optional<Assignment> get(String key) {
        return Optional.ofNullable(settings.get(key));
    }

    boolean has(String key) {
        return settings.containsKey(key);
    }

    List<Block> blocks() {
        return List.copyOf(blocks);
    }

    /** Reports a missing required setting at the block's header. */
    void requireAll(String... keys) {
        for (String k : keys) {
            if (!settings.containsKey(k)) {
                diagnostics.error(block.pos(), what + " is missing the setting '" + k + "'",
                        "add a line '" + k + " = ...' to the block");
            }
        }
    }

    int integer(String key, long min, long max, int fallback) {
        Assignment a = settings.get(key);
        return a == null ? fallback : integer(a.value(), key, min, max, fallback);
    }

    int integer(Expr e, String key, long min, long max, int fallback) {
        Optional<BigDecimal> v = number(e, key, "an integer");
        if (v.isEmpty()) {
            return fallback;
        }
        BigDecimal d = v.get();
        if (d.stripTrailingZeros().scale() > 0) {
            diagnostics.error(e.pos(), "'" + key + "' must be an integer, found " + plain(d),
                    "expected an integer from " + min + " to " + max);
            return fallback;
        }
        if (d.compareTo(BigDecimal.valueOf(min)) < 0 || d.compareTo(BigDecimal.valueOf(max)) > 0) {
            diagnostics.error(e.pos(), "'" + key + "' = " + plain(d) + " is out of range",
                    "expected an integer from " + min + " to " + max);
            return fallback;
        }
        return d.intValueExact();
    }

    double real(String key, double min, boolean minInclusive, double max, double fallback) {
        Assignment a = settings.get(key);
        return a == null ? fallback : real(a.value(), key, min, minInclusive, max, fallback);
    }

    double real(Expr e, String key, double min, boolean minInclusive, double max, double fallback) {
        Optional<BigDecimal> v = number(e, key, "a number");
        if (v.isEmpty()) {
            return fallback;
        }
        BigDecimal d = v.get();
        boolean low = minInclusive ? d.compareTo(BigDecimal.valueOf(min)) < 0 : d.compareTo(BigDecimal.valueOf(min)) <= 0;
        // A value like 1e-400 is above an exclusive minimum of 0 but rounds to 0.0 as a double.
        low |= !minInclusive && d.doubleValue() <= min;
        if (low || d.compareTo(BigDecimal.valueOf(max)) > 0) {
            diagnostics.error(e.pos(), "'" + key + "' = " + plain(d) + " is out of range",
                    "expected a number " + (minInclusive ? "from " : "greater than ") + fmt(min) + (minInclusive ? " to " : " and at most ") + fmt(max));
            return fallback;
        }
        return d.doubleValue();
    }

    boolean bool(String key, boolean fallback) {
        Assignment a = settings.get(key);
        if (a == null) {
            return fallback;
        }
        if (a.value() instanceof Expr.Name n && (n.name().equals("true") || n.name().equals("false"))) {
            return n.name().equals("true");
        }
        diagnostics.error(a.value().pos(), "'" + key + "' must be true or false", "expected true or false");
        return fallback;
    }

    /** A bare name from a fixed set, e.g. {@code format = e4m3}. */
    Optional<String> choice(Expr e, String key, List<String> allowed) {
        if (e instanceof Expr.Name n) {
            if (allowed.contains(n.name())) {
                return Optional.of(n.name());
            }
            diagnostics.error(n.pos(), "unknown value '" + n.name() + "' for '" + key + "'",
                    Suggestions.nearest(n.name(), allowed).map(s -> "did you mean '" + s + "'?")
                            .orElse("expected one of: " + String.join(", ", allowed)));
            return Optional.empty();
        }
        diagnostics.error(e.pos(), "'" + key + "' expects one of: " + String.join(", ", allowed));
        return Optional.empty();
    }

    Optional<String> string(String key) {
        Assignment a = settings.get(key);
        if (a == null) {
            return Optional.empty();
        }
        if (a.value() instanceof Expr.StringLit s) {
            return Optional.of(s.value());
        }
        diagnostics.error(a.value().pos(), "'" + key + "' must be a string", "write it in double quotes, e.g. \"data/corpus.txt.gz\"");
        return Optional.empty();
    }

    /** A reference to a named definition, e.g. {@code model = tiny}. */
    Optional<String> name(String key) {
        Assignment a = settings.get(key);
        if (a == null) {
            return Optional.empty();
        }
        if (a.value() instanceof Expr.Name n) {
            return Optional.of(n.name());
        }
        diagnostics.error(a.value().pos(), "'" + key + "' must name a definition", "expected a name, e.g. " + key + " = tiny");
        return Optional.empty();
    }

    private Optional<BigDecimal> number(Expr e, String key, String expected) {
        if (e instanceof Expr.NumberLit n) {
            return Optional.of(n.value());
        }
        diagnostics.error(e.pos(), "'" + key + "' must be " + expected + ", found " + describe(e), "expected " + expected);
        return Optional.empty();
    }

    static String describe(Expr e) {
        return switch (e) {
            case Expr.NumberLit n -> "the number " + n.text();
            case Expr.StringLit s -> "a string";
            case Expr.Name n -> "the name '" + n.name() + "'";
            case Expr.Call c -> "a call of '" + c.callee() + "'";
            case Expr.ListLit l -> "a list";
            case Expr.Index i -> "an index of '" + i.name() + "'";
            case Expr.Add a -> "a sum";
        };
    }

    SourcePos pos() {
        return block.pos();
    }

    private static String plain(BigDecimal d) {
        // Decide from the exponent, not the text: the plain form of 1e999999999 has a billion digits.
        if (d.scale() > 24 || d.precision() - d.scale() > 24) {
            return d.round(new java.math.MathContext(6)).toString();
        }
        String s = d.toPlainString();
        return s.length() > 24 ? d.round(new java.math.MathContext(6)).toString() : s;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    private static List<String> sorted(Set<String> s) {
        return s.stream().sorted().toList();
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        var u = new java.util.HashSet<>(a);
        u.addAll(b);
        return u;
    }
}

package dev.octet.dsl.check;

import dev.octet.dsl.ast.Expr;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.diag.Suggestions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The named options of a call-valued setting ({@code schedule = cosine(warmup = 100)}), checked and read. */
final class CallOptions {
    private CallOptions() {}

    /** The named arguments of {@code callee(key = value, ...)}; anything else is reported. */
    static Map<String, Expr> named(BlockReader r, Expr e, String key, String callee, Set<String> allowed) {
        Diagnostics d = r.diagnostics();
        Map<String, Expr> out = new HashMap<>();
        if (!(e instanceof Expr.Call c) || !c.callee().equals(callee)) {
            String found = e instanceof Expr.Call c ? "'" + c.callee() + "'" : BlockReader.describe(e);
            d.error(e instanceof Expr.Call c ? c.calleePos() : e.pos(), "'" + key + "' expects " + callee + "(...), found " + found,
                    e instanceof Expr.Call c ? Suggestions.nearest(c.callee(), List.of(callee)).map(s -> "did you mean '" + s + "'?")
                            .orElse("options: " + String.join(", ", allowed.stream().sorted().toList()))
                            : "e.g. " + key + " = " + callee + "(...)");
            return out;
        }
        for (Expr.Arg a : c.args()) {
            if (a.name().isEmpty()) {
                d.error(a.pos(), callee + " takes named options", "options: " + String.join(", ", allowed.stream().sorted().toList()));
            } else if (!allowed.contains(a.name().get())) {
                d.error(a.pos(), "unknown option '" + a.name().get() + "' of " + callee,
                        Suggestions.nearest(a.name().get(), allowed).map(s -> "did you mean '" + s + "'?")
                                .orElse("options: " + String.join(", ", allowed.stream().sorted().toList())));
            } else if (out.put(a.name().get(), a.value()) != null) {
                d.error(a.pos(), "duplicate option '" + a.name().get() + "'", "give each option once");
            }
        }
        return out;
    }

    static double real(BlockReader r, Map<String, Expr> args, String key, double min, boolean inclusive, double max, double fallback) {
        Expr e = args.get(key);
        return e == null ? fallback : r.real(e, key, min, inclusive, max, fallback);
    }

    static int integer(BlockReader r, Map<String, Expr> args, String key, int fallback) {
        Expr e = args.get(key);
        return e == null ? fallback : r.integer(e, key, 0, 100_000_000, fallback);
    }
}

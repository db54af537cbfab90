package dev.octet.dsl.check;

import dev.octet.dsl.ast.Assignment;
import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.Expr;
import dev.octet.dsl.ast.Item;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.diag.Suggestions;
import dev.octet.dsl.spec.GraphStmt;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.Op;
import dev.octet.dsl.spec.ValueKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a model's {@code forward} block: every name defined before use, every op known and given inputs of
 * the right kind, one {@code repeat} of the transformer block, and a loss at the end.
 */
final class GraphChecker {
    /** Op name → the kinds of its positional inputs, and its result. */
    private record Signature(List<ValueKind> inputs, ValueKind result, Set<String> options, String usage) {}

    private static final Map<String, Signature> OPS = new LinkedHashMap<>();

    static {
        OPS.put("embedding", new Signature(List.of(ValueKind.TOKENS), ValueKind.HIDDEN, Set.of(), "embedding(tokens)"));
        OPS.put("position_embedding", new Signature(List.of(ValueKind.TOKENS), ValueKind.HIDDEN, Set.of(), "position_embedding(tokens)"));
        OPS.put("rmsnorm", new Signature(List.of(ValueKind.HIDDEN), ValueKind.HIDDEN, Set.of(), "rmsnorm(x)"));
        OPS.put("layernorm", new Signature(List.of(ValueKind.HIDDEN), ValueKind.HIDDEN, Set.of(), "layernorm(x)"));
        OPS.put("attention", new Signature(List.of(ValueKind.HIDDEN), ValueKind.HIDDEN, Set.of("rope", "causal"),
                "attention(x, rope = true)"));
        OPS.put("swiglu", new Signature(List.of(ValueKind.HIDDEN), ValueKind.HIDDEN, Set.of(), "swiglu(x)"));
        OPS.put("gelu_mlp", new Signature(List.of(ValueKind.HIDDEN), ValueKind.HIDDEN, Set.of(), "gelu_mlp(x)"));
        OPS.put("lm_head", new Signature(List.of(ValueKind.HIDDEN), ValueKind.LOGITS, Set.of(), "lm_head(x)"));
        OPS.put("cross_entropy", new Signature(List.of(ValueKind.LOGITS, ValueKind.TARGETS), ValueKind.LOSS, Set.of(),
                "cross_entropy(logits, targets)"));
    }

    /** The names of the graph's ops, for help texts and suggestions. */
    static Set<String> opNames() {
        return OPS.keySet();
    }

    private final ModelConfig config;
    private final String model;
    private final Diagnostics diagnostics;
    private final Map<String, ValueKind> scope = new HashMap<>(Map.of("tokens", ValueKind.TOKENS, "targets", ValueKind.TARGETS));
    /** Names whose definition had an error already reported: their uses are not reported again as unknown. */
    private final Set<String> failed = new HashSet<>();
    private boolean sawRepeat;
    private boolean sawEmbedding;

    GraphChecker(ModelConfig config, String model, Diagnostics diagnostics) {
        this.config = config;
        this.model = model;
        this.diagnostics = diagnostics;
    }

    List<GraphStmt> check(Block forward) {
        if (forward.label().isPresent()) {
            diagnostics.error(forward.label().get().pos(), "'forward' takes no name", "write 'forward { ... }'");
        }
        List<GraphStmt> stmts = statements(forward.items(), false);
        boolean hasLoss = !stmts.isEmpty() && stmts.getLast() instanceof GraphStmt.Let let
                && let.name().equals("loss") && let.value() instanceof Op.CrossEntropy;
        if (!hasLoss && failed.contains("loss")) {
            // The loss was written but had an error, reported where it is.
        } else if (!hasLoss && scope.get("loss") != ValueKind.LOSS) {
            diagnostics.error(forward.pos(), "model '" + model + "' has no loss",
                    "end the forward block with 'loss = cross_entropy(logits, targets)'");
        } else if (!hasLoss) {
            diagnostics.error(stmts.getLast().pos(), "the forward block must end by binding the loss",
                    "move 'loss = cross_entropy(logits, targets)' to the end");
        }
        if (!sawRepeat) {
            diagnostics.error(forward.pos(), "model '" + model + "' has no repeated block",
                    "wrap the transformer block in 'repeat layers { ... }'");
        }
        return stmts;
    }

    private List<GraphStmt> statements(List<Item> items, boolean inRepeat) {
        List<GraphStmt> out = new ArrayList<>();
        for (Item item : items) {
            switch (item) {
                case Assignment a -> let(a, inRepeat).ifPresent(out::add);
                case Block b -> repeat(b, inRepeat).ifPresent(out::add);
            }
        }
        return out;
    }

    private Optional<GraphStmt> let(Assignment a, boolean inRepeat) {
        if (a.name().equals("tokens") || a.name().equals("targets")) {
            diagnostics.error(a.namePos(), "'" + a.name() + "' is a model input and cannot be assigned",
                    "choose another name, e.g. x");
            return Optional.empty();
        }
        Optional<Typed> value = expr(a.value());
        if (value.isEmpty()) {
            failed.add(a.name());
            return Optional.empty();
        }
        ValueKind kind = value.get().kind();
        if (kind == ValueKind.TOKENS || kind == ValueKind.TARGETS) {
            diagnostics.error(a.value().pos(), "'" + a.name() + "' would only rename the model input",
                    "use '" + (kind == ValueKind.TOKENS ? "tokens" : "targets") + "' directly");
            failed.add(a.name());
            return Optional.empty();
        }
        ValueKind previous = scope.get(a.name());
        if (previous != null && previous != value.get().kind()) {
            diagnostics.error(a.namePos(), "'" + a.name() + "' was " + previous.description() + " and is now "
                    + value.get().kind().description(), "use a new name for a value of another kind");
            return Optional.empty();
        }
        if (value.get().kind() == ValueKind.LOSS && (inRepeat || !a.name().equals("loss"))) {
            diagnostics.error(a.namePos(), "the loss must be bound to 'loss', outside the repeated block",
                    "write 'loss = cross_entropy(logits, targets)' at the end of forward");
            return Optional.empty();
        }
        scope.put(a.name(), value.get().kind());
        return Optional.of(new GraphStmt.Let(a.name(), value.get().op(), a.pos()));
    }

    private Optional<GraphStmt> repeat(Block b, boolean inRepeat) {
        if (!b.kind().equals("repeat")) {
            diagnostics.error(b.pos(), "unexpected block '" + b.kind() + "' in forward",
                    Suggestions.nearest(b.kind(), List.of("repeat")).map(s -> "did you mean 'repeat'?")
                            .orElse("only 'repeat layers { ... }' may appear inside forward"));
            return Optional.empty();
        }
        if (inRepeat) {
            diagnostics.error(b.pos(), "repeat blocks cannot be nested", "a decoder has one repeated transformer block");
            return Optional.empty();
        }
        if (sawRepeat) {
            diagnostics.error(b.pos(), "a second repeat block", "a decoder has one repeated transformer block");
            return Optional.empty();
        }
        sawRepeat = true;
        int count = config.layers();
        if (b.label().isEmpty()) {
            diagnostics.error(b.pos(), "repeat needs a count", "write 'repeat layers { ... }'");
        } else {
            Block.Label l = b.label().get();
            if (l.isInteger()) {
                long n = parseCount(l.text());
                if (n != config.layers()) {
                    diagnostics.error(l.pos(), "the block repeats " + l.text() + " times but the model has layers = " + config.layers(),
                            "write 'repeat layers' to use the model's layer count");
                }
            } else if (!l.text().equals("layers")) {
                diagnostics.error(l.pos(), "unknown repeat count '" + l.text() + "'",
                        Suggestions.nearest(l.text(), List.of("layers")).map(s -> "did you mean 'layers'?")
                                .orElse("write 'repeat layers' to use the model's layer count"));
            }
        }
        if (b.target().isPresent()) {
            diagnostics.error(b.target().get().pos(), "'for' is not allowed on repeat", "write 'repeat layers { ... }'");
        }
        return Optional.of(new GraphStmt.Repeat(count, statements(b.items(), true), b.pos()));
    }

    private static long parseCount(String digits) {
        try {
            return Long.parseLong(digits.replace("_", ""));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private record Typed(Op op, ValueKind kind) {}

    private Optional<Typed> expr(Expr e) {
        return switch (e) {
            case Expr.Name n -> name(n);
            case Expr.Add add -> {
                Optional<Typed> l = expr(add.left());
                Optional<Typed> r = expr(add.right());
                if (l.isEmpty() || r.isEmpty()) {
                    yield Optional.empty();
                }
                if (l.get().kind() != ValueKind.HIDDEN || r.get().kind() != ValueKind.HIDDEN) {
                    diagnostics.error(add.pos(), "'+' adds hidden states, found " + l.get().kind().description()
                            + " + " + r.get().kind().description(), "a residual add is 'x = x + attention(rmsnorm(x))'");
                    yield Optional.empty();
                }
                yield Optional.of(new Typed(new Op.Add(l.get().op(), r.get().op(), add.pos()), ValueKind.HIDDEN));
            }
            case Expr.Call c -> call(c);
            default -> {
                diagnostics.error(e.pos(), "expected an op or a name in the forward graph, found " + BlockReader.describe(e),
                        "ops: " + String.join(", ", OPS.keySet()));
                yield Optional.empty();
            }
        };
    }

    private Optional<Typed> name(Expr.Name n) {
        ValueKind kind = scope.get(n.name());
        if (kind == null && failed.contains(n.name())) {
            return Optional.empty();
        }
        if (kind == null) {
            List<String> candidates = new ArrayList<>(scope.keySet());
            diagnostics.error(n.pos(), "unknown name '" + n.name() + "'",
                    Suggestions.nearest(n.name(), candidates).map(s -> "did you mean '" + s + "'?")
                            .orElse(OPS.containsKey(n.name()) ? "'" + n.name() + "' is an op: call it, e.g. " + OPS.get(n.name()).usage()
                                    : "names must be assigned before use; the inputs are 'tokens' and 'targets'"));
            return Optional.empty();
        }
        // Only the inputs have these kinds: let() refuses to bind another name to token ids.
        Op op = kind == ValueKind.TOKENS || kind == ValueKind.TARGETS
                ? new Op.Input(kind, n.pos()) : new Op.Ref(n.name(), kind, n.pos());
        return Optional.of(new Typed(op, kind));
    }

    private Optional<Typed> call(Expr.Call c) {
        Signature sig = OPS.get(c.callee());
        if (sig == null) {
            diagnostics.error(c.calleePos(), "unknown op '" + c.callee() + "'",
                    Suggestions.nearest(c.callee(), OPS.keySet()).map(s -> "did you mean '" + s + "'?")
                            .orElse("ops: " + String.join(", ", OPS.keySet())));
            return Optional.empty();
        }
        List<Op> inputs = new ArrayList<>();
        int positional = 0;
        Map<String, Expr> options = new HashMap<>();
        boolean ok = true;
        for (Expr.Arg arg : c.args()) {
            if (arg.name().isPresent()) {
                String key = arg.name().get();
                if (!sig.options().contains(key)) {
                    diagnostics.error(arg.pos(), "'" + c.callee() + "' has no option '" + key + "'",
                            Suggestions.nearest(key, sig.options()).map(s -> "did you mean '" + s + "'?")
                                    .orElse(sig.options().isEmpty() ? "usage: " + sig.usage()
                                            : "options: " + String.join(", ", sig.options().stream().sorted().toList())));
                    ok = false;
                } else if (options.put(key, arg.value()) != null) {
                    diagnostics.error(arg.pos(), "duplicate option '" + key + "'", "give each option once");
                    ok = false;
                }
                continue;
            }
            int index = positional++;
            Optional<Typed> in = expr(arg.value());
            if (in.isEmpty()) {
                ok = false;
                continue;
            }
            if (index < sig.inputs().size() && in.get().kind() != sig.inputs().get(index)) {
                diagnostics.error(arg.pos(), "'" + c.callee() + "' expects " + sig.inputs().get(index).description()
                        + " here, found " + in.get().kind().description(), "usage: " + sig.usage());
                ok = false;
            }
            inputs.add(in.get().op());
        }
        if (positional != sig.inputs().size()) {
            diagnostics.error(c.pos(), "'" + c.callee() + "' takes " + sig.inputs().size() + " input"
                    + (sig.inputs().size() == 1 ? "" : "s") + ", found " + positional, "usage: " + sig.usage());
            return Optional.empty();
        }
        boolean rope = optionBool(options, "rope", false);
        boolean causal = optionBool(options, "causal", true);
        if (!causal) {
            diagnostics.error(options.get("causal").pos(), "attention must be causal in a decoder-only model",
                    "remove 'causal = false'");
        }
        if (!ok) {
            return Optional.empty();
        }
        Op op = switch (c.callee()) {
            case "embedding" -> {
                sawEmbedding = true;
                yield new Op.Embedding(inputs.get(0), c.pos());
            }
            case "position_embedding" -> new Op.PositionEmbedding(inputs.get(0), c.pos());
            case "rmsnorm" -> new Op.RmsNorm(inputs.get(0), c.pos());
            case "layernorm" -> new Op.LayerNorm(inputs.get(0), c.pos());
            case "attention" -> new Op.Attention(inputs.get(0), rope, c.pos());
            case "swiglu" -> new Op.SwiGlu(inputs.get(0), c.pos());
            case "gelu_mlp" -> new Op.GeluMlp(inputs.get(0), c.pos());
            case "lm_head" -> {
                if (config.tiedEmbeddings() && !sawEmbedding) {
                    diagnostics.error(c.calleePos(), "a tied lm_head needs an embedding(tokens) before it",
                            "add 'x = embedding(tokens)' first, or set tie_embeddings = false");
                    yield null;
                }
                yield new Op.LmHead(inputs.get(0), c.pos());
            }
            case "cross_entropy" -> new Op.CrossEntropy(inputs.get(0), inputs.get(1), c.pos());
            default -> throw new IllegalStateException("op table and switch disagree on " + c.callee());
        };
        return op == null ? Optional.empty() : Optional.of(new Typed(op, sig.result()));
    }

    private boolean optionBool(Map<String, Expr> options, String key, boolean fallback) {
        Expr e = options.get(key);
        if (e == null) {
            return fallback;
        }
        if (e instanceof Expr.Name n && (n.name().equals("true") || n.name().equals("false"))) {
            return n.name().equals("true");
        }
        diagnostics.error(e.pos(), "option '" + key + "' must be true or false", "expected true or false");
        return fallback;
    }
}

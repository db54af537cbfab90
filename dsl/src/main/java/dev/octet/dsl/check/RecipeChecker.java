package dev.octet.dsl.check;

import dev.octet.dsl.ast.Assignment;
import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.Expr;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.diag.Suggestions;
import dev.octet.dsl.spec.Bf16Scope;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.Precision;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a {@code recipe} block. Quantization settings resolve from the general to the specific:
 * recipe defaults, then the role ({@code weights}, {@code activations}, {@code gradients}), then the GEMM
 * ({@code fprop}, {@code dgrad}, {@code wgrad}), then the role inside that GEMM. {@code ROLE = granularity}
 * is shorthand for {@code ROLE { granularity = ... }}.
 *
 * <p>Granularities are read relative to the operand as its GEMM reduces it, [rows, K]: {@code token} and
 * {@code channel} both mean one scale per row, and the checker insists on the name that fits the rows —
 * tokens for activations and gradients in fprop and dgrad, channels for weights and for the wgrad
 * operands (which are reduced over tokens).
 */
final class RecipeChecker {
    private static final Set<String> QUANT_KEYS = Set.of("format", "granularity", "scale", "scaling");
    private static final Set<String> ROLE_NAMES = Set.of("weights", "activations", "gradients");
    private static final Set<String> GEMM_NAMES = Set.of("fprop", "dgrad", "wgrad");
    private static final List<String> FORMATS = List.of("e4m3", "e5m2");
    private static final List<String> SCALES = List.of("fp32", "ue8m0");
    private static final List<String> GRANULARITIES = List.of("tensor", "channel", "token", "group", "block");
    private static final List<String> BF16_KINDS = List.of("all", "embedding", "lm_head", "attention_core", "norm", "rope",
            "activation", "attention", "mlp", "q", "k", "v", "o", "gate", "up", "down", "layers");

    /**
     * One level of settings; absent fields inherit from the level above. The granularity keeps where it was
     * written, so a granularity that does not fit a GEMM is reported at that line.
     */
    private record Partial(Optional<Fp8Format> format, Optional<Granularity> granularity, Optional<ScaleType> scale,
                           Optional<Scaling> scaling, Optional<SourcePos> granularityPos) {
        static Partial empty() {
            return new Partial(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        }

        Partial over(Partial base) {
            return new Partial(format.or(base::format), granularity.or(base::granularity), scale.or(base::scale),
                    scaling.or(base::scaling), granularity.isPresent() ? granularityPos : base.granularityPos());
        }

        OperandQuant resolve() {
            return new OperandQuant(format.orElse(Fp8Format.E4M3), granularity.orElse(new Granularity.Tensor()),
                    scale.orElse(ScaleType.FP32), scaling.orElse(new Scaling.Current()));
        }
    }

    private final Diagnostics diagnostics;
    private final String recipe;

    private RecipeChecker(String recipe, Diagnostics diagnostics) {
        this.recipe = recipe;
        this.diagnostics = diagnostics;
    }

    static Optional<RecipeSpec> check(Block block, String name, Diagnostics diagnostics) {
        int before = diagnostics.errorCount();
        RecipeChecker c = new RecipeChecker(name, diagnostics);
        Set<String> keys = new HashSet<>(QUANT_KEYS);
        keys.addAll(ROLE_NAMES);
        keys.addAll(Set.of("bf16", "master_weights", "optimizer_states", "recompute"));
        Set<String> blocks = new HashSet<>(ROLE_NAMES);
        blocks.addAll(GEMM_NAMES);
        BlockReader r = new BlockReader(block, "recipe '" + name + "'", keys, blocks, diagnostics);

        Partial top = c.level(r);
        Map<Role, Partial> roles = c.roles(r, EnumSet.allOf(Role.class), "recipe '" + name + "'");
        Map<Gemm, Map<Role, OperandQuant>> operands = new EnumMap<>(Gemm.class);
        Map<Gemm, BlockReader> gemmBlocks = new EnumMap<>(Gemm.class);
        for (Block b : r.blocks()) {
            if (GEMM_NAMES.contains(b.kind())) {
                Gemm g = Gemm.valueOf(b.kind().toUpperCase());
                if (gemmBlocks.containsKey(g)) {
                    diagnostics.error(b.pos(), "duplicate definition of '" + b.kind() + "' in recipe '" + name + "'",
                            "first defined at " + gemmBlocks.get(g).pos());
                    continue;
                }
                c.noLabel(b);
                Set<String> gemmKeys = new HashSet<>(QUANT_KEYS);
                gemmKeys.addAll(ROLE_NAMES);
                gemmBlocks.put(g, new BlockReader(b, b.kind() + " in recipe '" + name + "'", gemmKeys, ROLE_NAMES, diagnostics));
            }
        }
        for (Gemm g : Gemm.values()) {
            Map<Role, OperandQuant> perRole = new EnumMap<>(Role.class);
            BlockReader gr = gemmBlocks.get(g);
            Partial gemmLevel = gr == null ? Partial.empty() : c.level(gr);
            Map<Role, Partial> gemmRoles = gr == null ? Map.of() : c.roles(gr, EnumSet.copyOf(g.operands()), g.lowerName());
            for (Role role : g.operands()) {
                Partial p = gemmRoles.getOrDefault(role, Partial.empty())
                        .over(gemmLevel).over(roles.getOrDefault(role, Partial.empty())).over(top);
                OperandQuant q = p.resolve();
                c.checkRows(g, role, q, p.granularityPos().orElse((gr != null ? gr : r).pos()));
                perRole.put(role, q);
            }
            operands.put(g, perRole);
        }
        Bf16Scope bf16 = c.bf16(r);
        Precision master = c.precision(r, "master_weights", List.of("fp32", "bf16"));
        Precision optimizer = c.precision(r, "optimizer_states", List.of("fp32", "bf16", "fp8"));
        Set<Recompute> recompute = c.recompute(r);
        Optional<String> forModel = block.target().map(Block.Label::text);
        if (diagnostics.errorCount() > before) {
            return Optional.empty();
        }
        return Optional.of(new RecipeSpec(name, block.pos(), forModel, operands, bf16, master, optimizer, recompute));
    }

    private void noLabel(Block b) {
        b.label().ifPresent(l -> diagnostics.error(l.pos(), "'" + b.kind() + "' takes no name", "write '" + b.kind() + " { ... }'"));
        b.target().ifPresent(t -> diagnostics.error(t.pos(), "'for' is not allowed here", "write '" + b.kind() + " { ... }'"));
    }

    /** format / granularity / scale / scaling at one level. */
    private Partial level(BlockReader r) {
        Optional<Fp8Format> format = r.get("format").flatMap(a -> r.choice(a.value(), "format", FORMATS))
                .map(s -> Fp8Format.valueOf(s.toUpperCase()));
        Optional<Granularity> granularity = r.get("granularity").flatMap(a -> granularity(r, a.value(), "granularity"));
        Optional<ScaleType> scale = r.get("scale").flatMap(a -> r.choice(a.value(), "scale", SCALES))
                .map(s -> ScaleType.valueOf(s.toUpperCase()));
        Optional<Scaling> scaling = r.get("scaling").flatMap(a -> scaling(r, a.value()));
        Optional<SourcePos> granularityPos = r.get("granularity").map(a -> a.value().pos());
        return new Partial(format, granularity, scale, scaling, granularityPos);
    }

    /** Role shorthands ({@code weights = block(128)}) and role blocks ({@code gradients { format = e5m2 }}). */
    private Map<Role, Partial> roles(BlockReader r, Set<Role> allowed, String where) {
        Map<Role, Partial> out = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            Optional<Assignment> shorthand = r.get(role.lowerName());
            if (shorthand.isPresent()) {
                if (!allowed.contains(role)) {
                    notAnOperand(shorthand.get().namePos(), role, where);
                    continue;
                }
                granularity(r, shorthand.get().value(), role.lowerName()).ifPresent(g ->
                        out.put(role, new Partial(Optional.empty(), Optional.of(g), Optional.empty(), Optional.empty(),
                                Optional.of(shorthand.get().value().pos()))));
            }
        }
        for (Block b : r.blocks()) {
            if (!ROLE_NAMES.contains(b.kind())) {
                continue;
            }
            Role role = Role.valueOf(b.kind().toUpperCase());
            if (!allowed.contains(role)) {
                notAnOperand(b.pos(), role, where);
                continue;
            }
            noLabel(b);
            if (out.containsKey(role)) {
                diagnostics.error(b.pos(), "duplicate definition of '" + b.kind() + "' in " + where,
                        "set the role either as '" + b.kind() + " = granularity' or in one '" + b.kind() + " { ... }' block");
                continue;
            }
            out.put(role, level(new BlockReader(b, b.kind() + " in " + where, QUANT_KEYS, Set.of(), diagnostics)));
        }
        return out;
    }

    private void notAnOperand(SourcePos pos, Role role, String gemm) {
        diagnostics.error(pos, gemm + " does not read " + role.lowerName(),
                "fprop Y = X·Wᵀ reads activations and weights, dgrad dX = dY·W gradients and weights, "
                        + "wgrad dW = dYᵀ·X gradients and activations");
    }

    private Optional<Granularity> granularity(BlockReader r, Expr e, String key) {
        if (e instanceof Expr.Name n) {
            return switch (n.name()) {
                case "tensor" -> Optional.of(new Granularity.Tensor());
                case "channel" -> Optional.of(new Granularity.Channel());
                case "token" -> Optional.of(new Granularity.Token());
                case "group", "block" -> {
                    diagnostics.error(n.pos(), "'" + n.name() + "' needs a size", "write " + n.name() + "(128)");
                    yield Optional.empty();
                }
                default -> {
                    r.choice(e, key, GRANULARITIES);
                    yield Optional.empty();
                }
            };
        }
        if (e instanceof Expr.Call c && (c.callee().equals("group") || c.callee().equals("block"))) {
            if (c.args().size() != 1 || c.args().getFirst().name().isPresent()) {
                diagnostics.error(c.pos(), "'" + c.callee() + "' takes one size", "write " + c.callee() + "(128)");
                return Optional.empty();
            }
            int size = r.integer(c.args().getFirst().value(), c.callee() + " size", 1, 65_536, -1);
            if (size < 0) {
                return Optional.empty();
            }
            return Optional.of(c.callee().equals("group") ? new Granularity.Group(size) : new Granularity.Block(size));
        }
        if (e instanceof Expr.Call c) {
            diagnostics.error(c.calleePos(), "unknown granularity '" + c.callee() + "'",
                    Suggestions.nearest(c.callee(), GRANULARITIES).map(s -> "did you mean '" + s + "'?")
                            .orElse("expected tensor, channel, token, group(g) or block(b)"));
            return Optional.empty();
        }
        diagnostics.error(e.pos(), "'" + key + "' expects a granularity, found " + BlockReader.describe(e),
                "expected tensor, channel, token, group(g) or block(b)");
        return Optional.empty();
    }

    private Optional<Scaling> scaling(BlockReader r, Expr e) {
        if (e instanceof Expr.Name n && n.name().equals("current")) {
            return Optional.of(new Scaling.Current());
        }
        if (e instanceof Expr.Call c && c.callee().equals("delayed")) {
            int history = 1024;
            int margin = 0;
            boolean ok = true;
            for (Expr.Arg a : c.args()) {
                String key = a.name().orElse("");
                switch (key) {
                    case "history" -> history = r.integer(a.value(), "history", 1, 65_536, 1024);
                    case "margin" -> margin = r.integer(a.value(), "margin", 0, 64, 0);
                    default -> {
                        diagnostics.error(a.pos(), a.name().isEmpty() ? "delayed scaling takes named options"
                                : "unknown option '" + key + "' of delayed scaling",
                                "write delayed(history = 1024, margin = 0)");
                        ok = false;
                    }
                }
            }
            return ok ? Optional.of(new Scaling.Delayed(history, margin)) : Optional.empty();
        }
        String found = e instanceof Expr.Name n ? n.name() : e instanceof Expr.Call c ? c.callee() : "";
        diagnostics.error(e.pos(), "unknown scaling policy" + (found.isEmpty() ? "" : " '" + found + "'"),
                Suggestions.nearest(found, List.of("current", "delayed")).map(s -> "did you mean '" + s + "'?")
                        .orElse("expected current or delayed(history = N, margin = M)"));
        return Optional.empty();
    }

    /** Per-row scales must be per row of the operand as its GEMM reduces it; see the class comment. */
    private void checkRows(Gemm gemm, Role role, OperandQuant q, SourcePos where) {
        boolean rowsAreTokens = role != Role.WEIGHTS && gemm != Gemm.WGRAD;
        String rows = rowsAreTokens ? "tokens" : "channels";
        if (q.granularity() instanceof Granularity.Token && !rowsAreTokens) {
            diagnostics.error(where, "in recipe '" + recipe + "', " + gemm.lowerName() + " reads "
                    + role.lowerName() + " with channels as rows, so per-token scales would vary along its reduction axis",
                    "use channel (one scale per " + (role == Role.WEIGHTS ? "weight row" : "feature") + "), group(g) or tensor");
        } else if (q.granularity() instanceof Granularity.Channel && rowsAreTokens) {
            diagnostics.error(where, "in recipe '" + recipe + "', " + gemm.lowerName() + " reduces "
                    + role.lowerName() + " over channels, so per-channel scales would vary along its reduction axis",
                    "use token (one scale per " + rows.substring(0, rows.length() - 1) + "), group(g) or tensor");
        }
    }

    private Bf16Scope bf16(BlockReader r) {
        Optional<Assignment> a = r.get("bf16");
        if (a.isEmpty()) {
            return new Bf16Scope(false, Set.of(), Set.of(), List.of());
        }
        Expr v = a.get().value();
        List<Expr> items = v instanceof Expr.ListLit l ? l.elements() : List.of(v);
        boolean everything = false;
        Set<String> kinds = new HashSet<>();
        Set<Projection> projections = EnumSet.noneOf(Projection.class);
        List<Bf16Scope.LayerRange> layers = new ArrayList<>();
        for (Expr e : items) {
            switch (e) {
                case Expr.Index ix when ix.name().equals("layers") -> layers.add(new Bf16Scope.LayerRange(ix.from(), ix.to()));
                case Expr.Name n when BF16_KINDS.contains(n.name()) && !n.name().equals("layers") -> {
                    switch (n.name()) {
                        case "all" -> everything = true;
                        case "attention" -> projections.addAll(List.of(Projection.Q, Projection.K, Projection.V, Projection.O));
                        case "mlp" -> projections.addAll(List.of(Projection.GATE, Projection.UP, Projection.DOWN));
                        case "q", "k", "v", "o", "gate", "up", "down", "lm_head" ->
                                projections.add(Projection.valueOf(n.name().toUpperCase()));
                        default -> kinds.add(n.name());
                    }
                }
                case Expr.Name n -> diagnostics.error(n.pos(), "unknown op kind '" + n.name() + "' in bf16",
                        Suggestions.nearest(n.name(), BF16_KINDS).map(s -> "did you mean '" + s + "'?")
                                .orElse("expected all, op kinds (" + String.join(", ", BF16_KINDS.subList(1, BF16_KINDS.size() - 1))
                                        + ") or layers[i], layers[a..b]"));
                default -> diagnostics.error(e.pos(), "bf16 expects op kinds and layer indices, found " + BlockReader.describe(e),
                        "e.g. bf16 = [lm_head, layers[0], layers[-1]]");
            }
        }
        return new Bf16Scope(everything, kinds, projections, layers);
    }

    /** {@code recompute = [norm, activation]}, or a single name, or {@code []}. */
    private Set<Recompute> recompute(BlockReader r) {
        Optional<Assignment> a = r.get("recompute");
        if (a.isEmpty()) {
            return Set.of();
        }
        Expr v = a.get().value();
        List<Expr> items = v instanceof Expr.ListLit l ? l.elements() : List.of(v);
        Set<Recompute> out = EnumSet.noneOf(Recompute.class);
        List<String> names = List.of("norm", "activation");
        for (Expr e : items) {
            if (e instanceof Expr.Name n && names.contains(n.name())) {
                out.add(Recompute.valueOf(n.name().toUpperCase(java.util.Locale.ROOT)));
            } else if (e instanceof Expr.Name n) {
                diagnostics.error(n.pos(), "unknown activation '" + n.name() + "' in recompute",
                        Suggestions.nearest(n.name(), names).map(s -> "did you mean '" + s + "'?")
                                .orElse("expected norm or activation"));
            } else {
                diagnostics.error(e.pos(), "recompute expects a list of norm, activation; found " + BlockReader.describe(e),
                        "e.g. recompute = [norm, activation]");
            }
        }
        return out;
    }

    private Precision precision(BlockReader r, String key, List<String> allowed) {
        return r.get(key).flatMap(a -> r.choice(a.value(), key, allowed))
                .map(s -> Precision.valueOf(s.toUpperCase())).orElse(Precision.FP32);
    }
}

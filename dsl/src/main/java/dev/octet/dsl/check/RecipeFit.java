package dev.octet.dsl.check;

import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.Granularity;
import java.util.LinkedHashSet;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Checks that a recipe's group and block sizes divide the dimensions they group, for every linear layer the
 * recipe runs in FP8. Octet's FP8 kernels have no tail handling, so a partial group is an error here (the CPU
 * numerics do handle tails: the last group gets its own scale).
 */
public final class RecipeFit {
    private RecipeFit() {}

    /**
     * @param tokensPerMicroBatch the wgrad reduction length when known (micro_batch × seq_len)
     * @param where               where the pairing was written (a training block, or the recipe itself)
     */
    public static void check(ModelSpec model, RecipeSpec recipe, OptionalInt tokensPerMicroBatch, SourcePos where,
                             Diagnostics diagnostics) {
        if (recipe.allBf16()) {
            return;
        }
        int layers = model.config().layers();
        Set<String> reported = new LinkedHashSet<>();
        for (ParameterTable.Linear l : ParameterTable.of(model).linears()) {
            if (recipe.bf16().keepsBf16(l.projection(), l.layer(), layers)) {
                continue;
            }
            for (Gemm gemm : Gemm.values()) {
                for (Role role : gemm.operands()) {
                    OperandQuant q = recipe.operand(gemm, role);
                    // The operand as its GEMM reads it: [rows, K].
                    int rows;
                    OptionalInt k;
                    switch (gemm) {
                        case FPROP -> {
                            rows = role == Role.WEIGHTS ? l.out() : -1;
                            k = OptionalInt.of(l.in());
                        }
                        case DGRAD -> {
                            rows = role == Role.WEIGHTS ? l.in() : -1;
                            k = OptionalInt.of(l.out());
                        }
                        case WGRAD -> {
                            rows = role == Role.GRADIENTS ? l.out() : l.in();
                            k = tokensPerMicroBatch;
                        }
                        default -> throw new IllegalStateException();
                    }
                    int size = switch (q.granularity()) {
                        case Granularity.Group g -> g.size();
                        case Granularity.Block b -> b.size();
                        default -> 0;
                    };
                    if (size == 0) {
                        continue;
                    }
                    if (k.isPresent() && k.getAsInt() % size != 0) {
                        String what = gemm == Gemm.WGRAD ? "the " + k.getAsInt() + " tokens of a micro-batch" : "K = " + k.getAsInt();
                        report(diagnostics, reported, where, recipe, q, what, gemm, role, l);
                    } else if (q.granularity() instanceof Granularity.Block && rows > 0 && rows % size != 0) {
                        report(diagnostics, reported, where, recipe, q, "its " + rows + " rows", gemm, role, l);
                    }
                }
            }
        }
    }

    private static void report(Diagnostics d, Set<String> reported, SourcePos where, RecipeSpec recipe, OperandQuant q,
                               String what, Gemm gemm, Role role, ParameterTable.Linear l) {
        String key = gemm + "/" + role + "/" + l.projection() + "/" + what;
        if (reported.add(key)) {
            d.error(where, "recipe '" + recipe.name() + "': " + q.granularity().describe() + " does not divide " + what
                    + " of the " + gemm.lowerName() + " " + role.lowerName() + " of " + l.projection().lowerName() + " projections",
                    "choose a size that divides it, or keep " + l.projection().lowerName() + " in BF16 (bf16 = [...])");
        }
    }
}

package dev.octet.compiler.passes;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Graph;
import dev.octet.compiler.ir.GraphWriter;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.TensorType;
import dev.octet.compiler.ir.Value;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.ScaleGrid;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantization per recipe. Every GEMM of a linear layer the recipe runs in FP8 gets, for each of its two
 * operands, a {@link Operator.Quantize} with the granularity, format, scale type and scaling that GEMM's
 * role asks for, laid out K-major (operands the GEMM reads transposed are quantized with a fused
 * transpose), and the GEMM becomes an FP8 GEMM reading codes and scales. Identical quantizations of one
 * tensor are shared — the normalized activation feeding q, k and v is quantized once for all three fprops
 * and once (transposed) for their three wgrads. Delayed scaling keeps one amax history per layer, GEMM and
 * role, so those are never shared. Layers the recipe keeps in BF16 are left alone.
 */
public final class QuantizeInsertion implements GraphPass {
    private final RecipeSpec recipe;
    private final Map<String, ParameterTable.Linear> linears = new HashMap<>();
    private final int layerCount;

    public QuantizeInsertion(RecipeSpec recipe, ParameterTable table) {
        this.recipe = recipe;
        this.layerCount = table.layerCount();
        table.linears().forEach(l -> linears.put(l.name(), l));
    }

    @Override
    public String name() {
        return "quantize";
    }

    /** The amax history of delayed scaling for one operand of one GEMM of one linear layer (optimizer state). */
    public static String amaxHistoryName(String linear, Gemm gemm, Role role) {
        return "amax_history." + linear + "." + gemm.lowerName() + "." + role.lowerName();
    }

    /** The count of amaxes recorded into {@code history} so far, kept beside it (i32[1]). */
    public static String recordedName(String history) {
        return history + ".recorded";
    }

    /** What makes two quantizations the same: one source tensor, one layout, one recipe setting. */
    private record Key(Value source, boolean transpose, OperandQuant quant, String historyOwner) {}

    private record Quantized(Value codes, Value scales) {}

    @Override
    public Graph run(Graph g) {
        GraphWriter w = GraphWriter.continuing(g);
        Map<Key, Quantized> done = new HashMap<>();
        for (Node n : g.nodes()) {
            if (!(n.op() instanceof Operator.MatMul mm) || !runsInFp8(mm)) {
                w.keep(n);
                continue;
            }
            OperandQuant qa = recipe.operand(mm.gemm(), mm.gemm().operands().get(0));
            OperandQuant qb = recipe.operand(mm.gemm(), mm.gemm().operands().get(1));
            Quantized a = quantize(w, done, n, mm, 0, qa, mm.m(), mm.k(), mm.transposeA());
            Quantized b = quantize(w, done, n, mm, 1, qb, mm.n(), mm.k(), mm.transposeB());
            List<Value> in = new ArrayList<>(List.of(a.codes(), a.scales(), b.codes(), b.scales()));
            in.addAll(n.inputs().subList(2, n.inputs().size()));
            w.keep(n.withOp(mm.asFp8(new Operator.Fp8Operands(qa, qb, mm.transposeA(), mm.transposeB())), in));
        }
        return g.withNodes(w.nodes());
    }

    private boolean runsInFp8(Operator.MatMul mm) {
        ParameterTable.Linear l = linears.get(mm.linear());
        if (l == null) {
            throw new IllegalArgumentException("GEMM of unknown linear layer " + mm.linear());
        }
        return !recipe.bf16().keepsBf16(l.projection(), l.layer(), layerCount);
    }

    private Quantized quantize(GraphWriter w, Map<Key, Quantized> done, Node gemm, Operator.MatMul mm, int operand,
                               OperandQuant q, int rows, int cols, boolean transpose) {
        Value source = gemm.inputs().get(operand);
        Role role = mm.gemm().operands().get(operand);
        boolean delayed = q.scaling() instanceof Scaling.Delayed;
        String owner = delayed ? amaxHistoryName(mm.linear(), mm.gemm(), role) : "";
        Key key = new Key(source, transpose, q, owner);
        Quantized existing = done.get(key);
        if (existing != null) {
            return existing;
        }
        String base = source.name() + (transpose ? ".t" : "") + "." + q.format().lowerName();
        Value codes = w.value(base, TensorType.of(DType.of(q.format()), rows, cols), Storage.TRANSIENT);
        int[] scaleShape = ScaleGrid.ofOperand(q.granularity(), rows, cols, transpose).storedShape();
        Value scales = w.value(base + ".scales", TensorType.of(DType.F32, scaleShape[0], scaleShape[1]),
                Storage.TRANSIENT);
        List<Value> in = new ArrayList<>(List.of(source));
        List<Value> out = new ArrayList<>(List.of(codes, scales));
        if (q.scaling() instanceof Scaling.Delayed d) {
            Value history = w.value(owner, TensorType.of(DType.F32, d.history()),
                    Storage.OPTIMIZER_STATE);
            in.add(history);
            out.add(history);
        }
        w.add(new Operator.Quantize(rows, cols, transpose, q.granularity(), q.format(), q.scaleType(), q.scaling()),
                in, out, gemm.phase());
        Quantized result = new Quantized(codes, scales);
        done.put(key, result);
        return result;
    }
}

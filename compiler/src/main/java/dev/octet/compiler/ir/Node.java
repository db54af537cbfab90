package dev.octet.compiler.ir;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One operation of the step program: reads {@code inputs}, writes {@code outputs}. An output that is also
 * an input is updated in place (AdamW); an operator that {@link Operator#accumulates() accumulates} adds
 * into its outputs (gradients over micro-batches) instead of overwriting them.
 */
public record Node(int id, Operator op, List<Value> inputs, List<Value> outputs, Phase phase) {
    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public Node withInputs(List<Value> newInputs) {
        return new Node(id, op, newInputs, outputs, phase);
    }

    public Node withOp(Operator newOp, List<Value> newInputs) {
        return new Node(id, newOp, newInputs, outputs, phase);
    }

    /**
     * Whether this node adds into {@code out} rather than overwriting it: accumulating operators, and every
     * write of a parameter gradient except the optimizer's (which zeroes it after use).
     */
    public boolean accumulatesInto(Value out) {
        return op.accumulates() || (out.storage() == Storage.GRADIENT && !(op instanceof Operator.AdamWUpdate));
    }

    /**
     * Whether this node quantizes a weight into persistent codes ({@link Storage#WEIGHT_CODES}): what a runtime runs
     * again whenever the weights change outside a step (passes/WeightsQuantizedPerStep, passes/WeightsQuantizedAtLoad).
     */
    public boolean writesWeightCodes() {
        return op instanceof Operator.Quantize && outputs.stream().allMatch(v -> v.storage() == Storage.WEIGHT_CODES);
    }

    /** {@code %y, %rstd = rmsnorm(%x, %w) {dim=128, eps=1e-06}}; an accumulated output reads {@code %g (+=)}. */
    public String render() {
        String outs = outputs.stream().map(v -> accumulatesInto(v) ? v + " (+=)" : v.toString())
                .collect(Collectors.joining(", "));
        String ins = inputs.stream().map(Value::toString).collect(Collectors.joining(", "));
        String attrs = op.attributes();
        return outs + " = " + op.mnemonic() + "(" + ins + ")" + (attrs.isEmpty() ? "" : " {" + attrs + "}");
    }
}

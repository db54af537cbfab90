package dev.octet.cpu.exec;

import dev.octet.cpu.ops.Rounding;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Axis;
import dev.octet.numerics.DelayedScaling;
import dev.octet.numerics.Fp8Gemm;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import java.util.EnumMap;
import java.util.Map;

/**
 * A linear layer in FP8, bit-faithful to the GPU kernels' numerics: each GEMM quantizes its two operands
 * as the recipe says for that GEMM and role — along that GEMM's reduction axis, so wgrad's operands are
 * grouped along tokens — and multiplies them with per-chunk promotion ({@link Fp8Gemm}).
 * Operands that the GEMM reads transposed are transposed first and quantized along their new rows,
 * which is what a fused cast+transpose kernel produces.
 */
public final class Fp8LinearKernel implements LinearKernel {
    private final String layer;
    private final RecipeSpec recipe;
    /** Amax histories of delayed scaling, one per operand of each GEMM of this layer. */
    private final Map<Gemm, Map<Role, DelayedScaling>> histories = new EnumMap<>(Gemm.class);
    private final Fp8HealthCollector health;

    public Fp8LinearKernel(String layer, RecipeSpec recipe) {
        this(layer, recipe, new Fp8HealthCollector());
    }

    /** A kernel whose quantizations are measured by {@code health} while it is armed. */
    public Fp8LinearKernel(String layer, RecipeSpec recipe, Fp8HealthCollector health) {
        this.layer = layer;
        this.recipe = recipe;
        this.health = health;
    }

    /**
     * The amax histories of the operands this layer scales with delayed scaling, by GEMM and role: state that
     * carries from step to step, so a checkpoint must keep it. Empty under just-in-time scaling.
     */
    public Map<Gemm, Map<Role, DelayedScaling>> delayedScaling() {
        Map<Gemm, Map<Role, DelayedScaling>> copy = new EnumMap<>(Gemm.class);
        histories.forEach((gemm, byRole) -> copy.put(gemm, Map.copyOf(byRole)));
        return Map.copyOf(copy);
    }

    /** Puts back a history that {@link #delayedScaling} returned, e.g. from a checkpoint. */
    public void restoreDelayedScaling(Gemm gemm, Role role, DelayedScaling state) {
        OperandQuant q = recipe.operand(gemm, role);
        if (!(q.scaling() instanceof Scaling.Delayed d) || d.history() != state.historyLength()
                || d.margin() != state.margin() || q.format() != state.format()) {
            throw new IllegalArgumentException(layer + " " + gemm.lowerName() + " " + role.lowerName()
                    + ": the recipe's scaling " + q.scaling() + " cannot continue from " + state);
        }
        histories.computeIfAbsent(gemm, g -> new EnumMap<>(Role.class)).put(role, state);
    }

    @Override
    public void forward(double[] y, double[] x, double[] w, int m, int k, int n) {
        QuantizedMatrix xq = quantize(Gemm.FPROP, Role.ACTIVATIONS, LinearOperands.toFloat(x), m, k);
        QuantizedMatrix wq = quantize(Gemm.FPROP, Role.WEIGHTS, LinearOperands.toFloat(w), n, k);
        copy(Fp8Gemm.multiply(xq, wq), y);
    }

    @Override
    public void backwardInput(double[] dx, double[] dy, double[] w, int m, int k, int n, Rounding rounding) {
        // dX[m,k] = dY[m,n]·W[n,k]: reduces over n, so W is read as Wᵀ [k, n].
        QuantizedMatrix dyq = quantize(Gemm.DGRAD, Role.GRADIENTS, LinearOperands.toFloat(dy), m, n);
        QuantizedMatrix wtq = quantize(Gemm.DGRAD, Role.WEIGHTS, LinearOperands.transposeToFloat(w, n, k), k, n);
        float[] out = Fp8Gemm.multiply(dyq, wtq);
        for (int i = 0; i < out.length; i++) {
            dx[i] = rounding.apply(out[i]);
        }
    }

    @Override
    public void backwardWeight(double[] dw, double[] dy, double[] x, int m, int k, int n) {
        // dW[n,k] = dYᵀ[n,m]·X[m,k]: reduces over the m tokens, so both operands are read transposed.
        QuantizedMatrix dytq = quantize(Gemm.WGRAD, Role.GRADIENTS, LinearOperands.transposeToFloat(dy, m, n), n, m);
        QuantizedMatrix xtq = quantize(Gemm.WGRAD, Role.ACTIVATIONS, LinearOperands.transposeToFloat(x, m, k), k, m);
        float[] out = Fp8Gemm.multiply(dytq, xtq);
        for (int i = 0; i < out.length; i++) {
            dw[i] += out[i];
        }
    }

    private QuantizedMatrix quantize(Gemm gemm, Role role, float[] data, int rows, int cols) {
        QuantizedMatrix quantized = quantizeOperand(gemm, role, data, rows, cols);
        if (health.armed()) {
            health.record(layer, gemm, role, data, quantized);
        }
        return quantized;
    }

    private QuantizedMatrix quantizeOperand(Gemm gemm, Role role, float[] data, int rows, int cols) {
        OperandQuant q = recipe.operand(gemm, role);
        try {
            if (q.scaling() instanceof Scaling.Delayed d) {
                DelayedScaling state = histories.computeIfAbsent(gemm, g -> new EnumMap<>(Role.class))
                        .computeIfAbsent(role, r -> DelayedScaling.start(q.format(), d.history(), d.margin()));
                DelayedScaling.Step step = state.quantize(data, rows, cols);
                histories.get(gemm).put(role, step.next());
                return step.quantized();
            }
            return Quantizer.quantize(data, rows, cols, q.granularity(), Axis.COLS, q.format(), q.scaleType());
        } catch (IllegalArgumentException e) {
            throw new NonFiniteTensorException(layer + " (" + gemm.lowerName() + " " + role.lowerName() + ")", e);
        }
    }



    private static void copy(float[] from, double[] to) {
        for (int i = 0; i < from.length; i++) {
            to[i] = from[i];
        }
    }
}

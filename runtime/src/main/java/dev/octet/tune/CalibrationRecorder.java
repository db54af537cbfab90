package dev.octet.tune;

import dev.octet.cpu.exec.LinearOperands;
import dev.octet.cpu.exec.Bf16LinearKernel;
import dev.octet.cpu.exec.Fp8LinearKernel;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.LinearKernel;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernels of a calibration run: each linear layer runs as the file's recipe says (so the run trains as
 * {@code octet train} would), and every GEMM of a layer the recipe quantizes hands its two operands, as the GEMM
 * reads them, to {@link OperandMeasurer}. Layers the recipe keeps in BF16 are not tuned.
 */
public final class CalibrationRecorder implements GraphInterpreter.LinearPolicy {
    private record Sums(int rows, int k, Fidelity[] fidelity) {}

    private final RecipeSpec recipe;
    private final int layerCount;
    private final Map<OperandId, Sums> sums = new LinkedHashMap<>();

    public CalibrationRecorder(RecipeSpec recipe, int layerCount) {
        this.recipe = recipe;
        this.layerCount = layerCount;
    }

    @Override
    public LinearKernel kernelFor(ParameterTable.Linear linear) {
        if (recipe.bf16().keepsBf16(linear.projection(), linear.layer(), layerCount)) {
            return new Bf16LinearKernel();
        }
        return new Measuring(linear, new Fp8LinearKernel(linear.name(), recipe));
    }

    /** What was measured, in the order the operands were first seen. */
    public synchronized List<OperandMeasurements> measurements() {
        List<OperandMeasurements> out = new ArrayList<>();
        sums.forEach((id, s) -> out.add(new OperandMeasurements(id, s.rows(), s.k(),
                TuneCandidate.forOperand(id.gemm(), id.role()), Arrays.asList(s.fidelity()))));
        return List.copyOf(out);
    }

    /** Measures the pair (A [rows, K], B [otherRows, K]) of one GEMM: A against B, then B against A. */
    private synchronized void record(ParameterTable.Linear linear, Gemm gemm, float[] a, int rows, float[] b, int otherRows, int k) {
        if (!finite(a) || !finite(b)) {
            return; // the step is skipped for it; a non-finite value says nothing about the formats
        }
        add(new OperandId(linear, gemm, gemm.operands().get(0)), a, rows, b, otherRows, k);
        add(new OperandId(linear, gemm, gemm.operands().get(1)), b, otherRows, a, rows, k);
    }

    private void add(OperandId id, float[] operand, int rows, float[] other, int otherRows, int k) {
        Fidelity[] measured = OperandMeasurer.measure(operand, rows, k, other, otherRows, TuneCandidate.forOperand(id.gemm(), id.role()));
        sums.merge(id, new Sums(rows, k, measured), (was, now) -> {
            Fidelity[] merged = new Fidelity[was.fidelity().length];
            for (int i = 0; i < merged.length; i++) {
                merged[i] = was.fidelity()[i].merge(now.fidelity()[i]);
            }
            return new Sums(rows, k, merged);
        });
    }

    private static boolean finite(float[] x) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** The recipe's FP8 kernel, and the measurement of its operands once it has run. */
    private final class Measuring implements LinearKernel {
        private final ParameterTable.Linear linear;
        private final LinearKernel kernel;

        Measuring(ParameterTable.Linear linear, LinearKernel kernel) {
            this.linear = linear;
            this.kernel = kernel;
        }

        @Override
        public void forward(double[] y, double[] x, double[] w, int m, int k, int n) {
            kernel.forward(y, x, w, m, k, n);
            record(linear, Gemm.FPROP, LinearOperands.toFloat(x), m, LinearOperands.toFloat(w), n, k);
        }

        @Override
        public void backwardInput(double[] dx, double[] dy, double[] w, int m, int k, int n, dev.octet.cpu.ops.Rounding rounding) {
            kernel.backwardInput(dx, dy, w, m, k, n, rounding);
            record(linear, Gemm.DGRAD, LinearOperands.toFloat(dy), m, LinearOperands.transposeToFloat(w, n, k), k, n);
        }

        @Override
        public void backwardWeight(double[] dw, double[] dy, double[] x, int m, int k, int n) {
            kernel.backwardWeight(dw, dy, x, m, k, n);
            record(linear, Gemm.WGRAD, LinearOperands.transposeToFloat(dy, m, n), n, LinearOperands.transposeToFloat(x, m, k), k, m);
        }
    }


}

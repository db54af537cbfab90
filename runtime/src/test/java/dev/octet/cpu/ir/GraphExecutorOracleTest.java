package dev.octet.cpu.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.AdamW;
import dev.octet.cpu.ops.GradientClipping;
import dev.octet.cpu.ops.Rounding;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The step graph the compiler builds, run node by node, against the model-level CPU oracle
 * (GraphInterpreter driven as CpuTrainer drives it) from the same initial weights on the same batches.
 */
class GraphExecutorOracleTest {
    @ParameterizedTest
    @CsvSource({"llama_like, bf16", "llama_like, infir2", "gpt2_like, bf16", "gpt2_like, infir2"})
    void oneStepAgreesWithTheOracle(String modelName, String recipeName) {
        ModelSpec model = IrPrograms.model(modelName);
        RecipeSpec recipe = IrPrograms.recipe(recipeName);
        TrainingSpec training = IrPrograms.training();
        List<TokenBatch> batches = IrPrograms.microBatches(model.config().vocab(), 11);

        GraphExecutor ir = new GraphExecutor(IrPrograms.graph(modelName, recipeName), training);
        ir.load(ParameterStore.initialize(model, training.seed()));
        double irLoss = ir.forwardBackward(batches);

        ParameterStore params = ParameterStore.initialize(model, training.seed());
        Map<String, float[]> before = new HashMap<>();
        params.entries().forEach(e -> before.put(e.param().name(), e.master().clone()));
        Oracle oracle = oracleStep(model, recipe, training, params, batches);

        String where = modelName + "/" + recipeName;
        System.out.printf(Locale.ROOT, "%s: loss ir %.9f oracle %.9f, relative %.2e%n", where, irLoss, oracle.loss,
                Math.abs(irLoss - oracle.loss) / oracle.loss);
        double worstGrad = 0;
        for (ParameterStore.Entry e : params.entries()) {
            String name = e.param().name();
            double err = relative(ir.read("grad." + name), oracle.grads.get(name));
            worstGrad = Math.max(worstGrad, err);
            System.out.printf(Locale.ROOT, "  grad %-36s %.2e%n", name, err);
        }
        double irNorm = ir.optimize(0, training.steps());
        double worstUpdate = 0;
        for (ParameterStore.Entry e : params.entries()) {
            String name = e.param().name();
            float[] p0 = before.get(name);
            double[] irAfter = ir.read(name);
            double[] irDelta = new double[p0.length];
            double[] refDelta = new double[p0.length];
            for (int i = 0; i < p0.length; i++) {
                irDelta[i] = irAfter[i] - p0[i];
                refDelta[i] = (double) e.master()[i] - p0[i];
            }
            worstUpdate = Math.max(worstUpdate, relative(irDelta, refDelta));
        }
        System.out.printf(Locale.ROOT, "  worst gradient %.2e, gradient norm ir %.6f oracle %.6f, worst update %.2e%n",
                worstGrad, irNorm, oracle.norm, worstUpdate);
    }

    private record Oracle(double loss, double norm, Map<String, double[]> grads) {}

    /** One step exactly as CpuTrainer takes it; the gradients are captured before clipping. */
    private static Oracle oracleStep(ModelSpec model, RecipeSpec recipe, TrainingSpec spec, ParameterStore params,
                                     List<TokenBatch> batches) {
        GraphInterpreter interpreter = new GraphInterpreter(model, params,
                new RecipeLinearPolicy(recipe, model.config().layers()), Rounding.GPU);
        params.refreshWorking(Rounding.GPU);
        params.zeroGrads();
        int accumulation = batches.size();
        double loss = 0;
        for (TokenBatch b : batches) {
            loss += interpreter.forwardBackward(b, 1.0 / accumulation) / accumulation;
        }
        Map<String, double[]> grads = new HashMap<>();
        params.entries().forEach(e -> grads.put(e.param().name(), e.grad().clone()));
        double[][] all = params.entries().stream().map(ParameterStore.Entry::grad).toArray(double[][]::new);
        double norm = GradientClipping.clip(spec.clipGradNorm(), all);
        double lr = spec.schedule().learningRate(spec.optimizer().lr(), 0, spec.steps());
        TrainingSpec.AdamW opt = spec.optimizer();
        for (ParameterStore.Entry e : params.entries()) {
            float[] g = new float[e.grad().length];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) e.grad()[i];
            }
            AdamW.step(e.master(), g, e.m(), e.v(), 1, lr, opt.beta1(), opt.beta2(), opt.eps(),
                    e.param().decays() ? opt.weightDecay() : 0);
        }
        return new Oracle(loss, norm, grads);
    }

    /** ‖a − b‖₂ / ‖b‖₂. */
    static double relative(double[] a, double[] b) {
        assertEquals(b.length, a.length);
        double diff = 0, ref = 0;
        for (int i = 0; i < a.length; i++) {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            ref += b[i] * b[i];
        }
        return ref == 0 ? Math.sqrt(diff) : Math.sqrt(diff / ref);
    }
}

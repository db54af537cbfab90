package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.kernels.Numbers;
import dev.octet.numerics.Axis;
import dev.octet.numerics.QuantizationHealth;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import dev.octet.numerics.ScaleGrid;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which launches the probe reads after, and the health it forms from codes and scales as the device holds
 * them, checked on the tiny model's plan without a GPU.
 */
class Fp8HealthProbeTest {
    private static StepPlan plan;
    private static Fp8HealthProbe probe;

    @BeforeAll
    static void compile() {
        plan = ExampleModels.tinyPlan("infir2");
        probe = Fp8HealthProbe.of(plan);
    }

    @Test
    void everyFp8GemmOperandIsMeasuredOnce() {
        everyFp8GemmOperandIsMeasuredOnce(plan, probe);
    }

    /**
     * With {@code recompute}: wgrad operands quantized from the activations' inputs, forward activations that never
     * reach memory; each is measured against its recomputation from the inputs the launch reads.
     */
    @Test
    void withRecomputeEveryOperandIsMeasuredFromWhatTheLaunchReads() {
        StepPlan recomputing = TinyRun.of("infir2").recomputing(Set.of(Recompute.NORM, Recompute.ACTIVATION)).plan();
        Fp8HealthProbe recomputingProbe = Fp8HealthProbe.of(recomputing);
        everyFp8GemmOperandIsMeasuredOnce(recomputing, recomputingProbe);
        long fromInputs = recomputingProbe.operands().stream().map(op -> op.quantize().source())
                .filter(QuantizedSource::isActivation).count();
        // Per layer: the two norm outputs and the SwiGLU output, each in forward (rows) and backward (transposed).
        assertEquals(2 * 3 * 2, fromInputs);
        long gradients = recomputingProbe.operands().stream().map(op -> op.quantize().source())
                .filter(s -> s.sibling().isPresent()).count();
        // Per layer: SwiGLU's dgate and dup, each in both layouts, measured against their recomputation from gate, up, dh.
        assertEquals(2 * 2 * 2, gradients);
        long fromMasters = recomputingProbe.operands().stream()
                .filter(op -> op.quantize().source() == QuantizedSource.MASTER).count();
        // Per layer: the 7 projection weights in fprop's and dgrad's layouts, each measured from its master.
        assertEquals(2 * 7 * 2, fromMasters);
        for (Launch l : recomputing.kernels().launches()) {
            for (QuantizedOperand op : recomputingProbe.after(l)) {
                for (Value source : op.sources()) {
                    assertTrue(l.writes().contains(source) || l.reads().contains(source), source + " at " + l.kernel().name());
                }
            }
        }
    }

    private static void everyFp8GemmOperandIsMeasuredOnce(StepPlan plan, Fp8HealthProbe probe) {
        Set<QuantizedOperand.Use> expected = new HashSet<>();
        for (Node n : plan.kernels().fused().graph().nodes()) {
            if (n.op() instanceof Operator.MatMul mm && mm.fp8().isPresent()) {
                expected.add(new QuantizedOperand.Use(mm.linear(), mm.gemm(), mm.gemm().operands().get(0)));
                expected.add(new QuantizedOperand.Use(mm.linear(), mm.gemm(), mm.gemm().operands().get(1)));
            }
        }
        List<QuantizedOperand.Use> measured = probe.operands().stream().flatMap(op -> op.uses().stream()).toList();
        assertFalse(expected.isEmpty());
        assertEquals(expected.size(), measured.size(), "an operand measured twice");
        assertEquals(expected, new HashSet<>(measured));
    }

    @Test
    void eachQuantizationIsReadAfterTheLaunchThatWritesItsCodesAndScales() {
        int fused = 0;
        for (Launch l : plan.kernels().launches()) {
            for (QuantizedOperand op : probe.after(l)) {
                assertTrue(l.writes().contains(op.codes()), l.kernel().name() + " does not write " + op.codes());
                assertTrue(l.writes().contains(op.scales()), l.kernel().name() + " does not write " + op.scales());
                // The sources are in their place then: the launch either just wrote them or reads them.
                for (Value source : op.sources()) {
                    assertTrue(l.writes().contains(source) || l.reads().contains(source), source.toString());
                }
                if (op.sources().stream().anyMatch(l.writes()::contains)) {
                    fused++;
                }
            }
        }
        assertTrue(fused > 0, "no norm or activation kernel with a fused quantization in the tiny plan");
        assertEquals(probe.operands().size(), plan.kernels().fused().graph().nodes().stream()
                .filter(n -> n.op() instanceof Operator.Quantize).count(), "a quantization left unmeasured");
    }

    @Test
    void healthFromDeviceLayoutEqualsTheCpuMeasureOfTheSameQuantization() {
        List<QuantizedOperand> ops = probe.operands();
        QuantizedOperand plain = ops.stream().filter(op -> !op.quantize().transpose()).findFirst().orElseThrow();
        QuantizedOperand transposed = ops.stream().filter(op -> op.quantize().transpose()).findFirst().orElseThrow();
        SplittableRandom random = new SplittableRandom(7);
        for (QuantizedOperand op : List.of(plain, transposed)) {
            Operator.Quantize q = op.quantize();
            int rows = q.rows();
            int cols = q.cols();
            // The matrix the GEMM multiplies, [rows, cols], with a few large and tiny values to saturate and flush.
            float[] x = new float[rows * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-6, 2)));
            }
            QuantizedMatrix expectedQ = Quantizer.quantize(x, rows, cols, q.granularity(), Axis.COLS, q.format(),
                    q.scaleType());
            QuantizationHealth expected = QuantizationHealth.measure(x, expectedQ);
            float[] source = q.transpose() ? Numbers.transpose(x, rows, cols) : x;
            // The scales as the device holds them (a transposed group quantization's column-major).
            float[] stored = ScaleGrid.ofOperand(q.granularity(), rows, cols, q.transpose()).stored(expectedQ.scales());
            QuantizationHealth got = op.measure(source, expectedQ.codes(), stored);
            assertEquals(expected, got, op.codes().toString());
            assertTrue(got.flushed() > 0, "the test data flushes nothing");
        }
    }

    /**
     * A bounded measurement reads the first rows of whole scale tiles: the same health as the CPU's measure of
     * those rows, from a prefix of the codes and of the scale grid, and the transposed source's first columns.
     */
    @Test
    void aSampleOfRowsMeasuresAsTheCpuMeasuresThoseRows() {
        SplittableRandom random = new SplittableRandom(11);
        for (QuantizedOperand op : probe.operands()) {
            Operator.Quantize q = op.quantize();
            int rows = q.rows();
            int cols = q.cols();
            long max = (long) rows * cols / 3;  // forces a sample on every tiny quantization
            int r = op.sampleRows(max);
            int tile = q.granularity() instanceof dev.octet.numerics.Granularity.Block b ? b.size() : 1;
            assertTrue(r >= tile && r <= rows && (r % tile == 0 || r == rows), op.codes() + ": " + r + " rows");
            assertTrue((long) r * cols <= Math.max(max, (long) tile * cols), op.codes() + ": " + r + " rows");
            assertEquals(rows, op.sampleRows((long) rows * cols), "a quantization that fits is read whole");

            float[] x = new float[rows * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-6, 2)));
            }
            QuantizedMatrix whole = Quantizer.quantize(x, rows, cols, q.granularity(), Axis.COLS, q.format(), q.scaleType());
            float[] head = Arrays.copyOf(x, r * cols);
            // The sample's codes are the whole quantization's first rows, its tiles' scales those rows' scales.
            int rowScales = ScaleGrid.of(q.granularity(), Axis.COLS, r, cols).scaleCount();
            QuantizedMatrix expectedQ = new QuantizedMatrix(q.format(), q.granularity(), Axis.COLS, r, cols,
                    Arrays.copyOf(whole.codes(), r * cols), Arrays.copyOf(whole.scales(), rowScales));
            QuantizationHealth expected = QuantizationHealth.measure(head, expectedQ);
            // What the device read returns: the rows, or for a transposing kernel the source's first r columns; the
            // first sampleScales(r) scales as stored (all of them where a transposed group quantization's lie
            // column-major).
            float[] source = q.transpose() ? Numbers.transpose(head, r, cols) : head;
            float[] stored = ScaleGrid.ofOperand(q.granularity(), rows, cols, q.transpose()).stored(whole.scales());
            assertEquals(expected, op.measure(source, expectedQ.codes(), Arrays.copyOf(stored, op.sampleScales(r)), r),
                    op.codes().toString());
        }
    }

    @Test
    void aSharedQuantizationCountsForEachGemmItFeedsAndMicroBatchesMerge() {
        QuantizedOperand shared = probe.operands().stream().filter(op -> op.uses().size() > 1).findFirst().orElseThrow();
        QuantizationHealth one = new QuantizationHealth(10, 1, 2, 3.0, 100.0, 1.0);
        probe.record(shared, one);
        probe.record(shared, one);
        List<Fp8TensorHealth> out = probe.finish();
        assertEquals(shared.uses().size(), out.size());
        for (Fp8TensorHealth t : out) {
            assertEquals(one.merge(one), t.health(), t.tensor());
        }
        assertTrue(probe.finish().isEmpty(), "finish starts over");
    }

    /** The CPU backend's health entries and the probe's name the same operands. */
    @Test
    void theProbeNamesTheOperandsTheCpuMeasures() {
        Program p = ExampleModels.load("tiny.octet", "infir2");
        ModelSpec model = p.model("tiny").orElseThrow();
        RecipeSpec recipe = p.recipe("infir2").orElseThrow();
        TrainingSpec spec = p.trainings().getFirst();
        int batch = spec.microBatch();
        int seq = spec.seqLen();
        SplittableRandom random = new SplittableRandom(3);
        int[] tokens = random.ints(batch * seq, 0, model.config().vocab()).toArray();
        int[] targets = random.ints(batch * seq, 0, model.config().vocab()).toArray();
        float[] mask = new float[batch * seq];
        Arrays.fill(mask, 1f);
        Batch b = new Batch(batch, seq, tokens, targets, new int[batch * seq], mask);

        Fp8HealthCollector health = new Fp8HealthCollector();
        ParameterStore params = ParameterStore.initialize(model, spec.seed());
        GraphInterpreter interpreter = new GraphInterpreter(model, params,
                new RecipeLinearPolicy(recipe, model.config().layers(), health), Rounding.GPU);
        params.refreshWorking(Rounding.GPU);
        params.zeroGrads();
        health.arm();
        interpreter.forwardBackward(TokenBatch.of(b), 1.0);
        Set<String> cpu = health.finish().stream().map(Fp8TensorHealth::tensor).collect(Collectors.toSet());

        for (QuantizedOperand op : probe.operands()) {
            probe.record(op, new QuantizationHealth(1, 0, 0, 1, 1, 0));
        }
        Set<String> gpu = probe.finish().stream().map(Fp8TensorHealth::tensor).collect(Collectors.toSet());
        assertEquals(cpu, gpu);
    }
}

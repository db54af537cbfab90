package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.octet.compiler.ir.Parameter;
import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.Batch;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.gpu.kernels.GpuSession;
import dev.octet.numerics.QuantizationHealth;
import dev.octet.train.Fp8HealthLog;
import dev.octet.train.GpuTrainer;
import dev.octet.train.MetricsLog;
import dev.octet.train.Monitoring;
import dev.octet.train.TrainingOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FP8 health measured on the device (each quantization read back after its launch) against the CPU oracle's
 * health for the same weights and batch, and a health step leaves training exactly as a replayed step would.
 */
@GpuKernelTest
class Fp8HealthGpuTest {
    /**
     * Activations and weights, measured after two GPU steps: the FP8 tensor cores' narrower chunk accumulation
     * (~2^-13 relative) moves the weights of the two runs apart and flips FP8 roundings downstream, which moved
     * one activation's amax by 2.6% (layer 1's down projection input).
     */
    private static final double AMAX_BOUND = 5e-2;
    /** Output gradients differ by up to a few percent (see TrainingStepGpuTest), so their amax may too. */
    private static final double GRADIENT_AMAX_BOUND = 1e-1;
    private static final double SNR_BOUND_DB = 1.0;
    private static final double FRACTION_BOUND = 1e-2;

    /**
     * With {@code recompute}, the wgrad operands are quantized from the activations' inputs and the forward's norm
     * and activation outputs never reach memory: the probe measures those quantizations against the host's
     * recomputation.
     */
    @ParameterizedTest(name = "recompute {0}")
    @ValueSource(booleans = {false, true})
    void deviceHealthMatchesTheCpuOracleOfOneTinyStep(boolean recompute) {
        TinyRun run = recompute ? TinyRun.of("infir2").recomputing(Set.of(Recompute.NORM, Recompute.ACTIVATION))
                : TinyRun.of("infir2");
        Batch batch = run.batches(1).getFirst();
        TrainingSpec spec = run.spec();

        Fp8HealthCollector collector = new Fp8HealthCollector();
        ParameterStore cpu = ParameterStore.initialize(run.model(), spec.seed());
        GraphInterpreter interpreter = new GraphInterpreter(run.model(), cpu,
                new RecipeLinearPolicy(run.recipe(), run.model().config().layers(), collector), Rounding.GPU);
        cpu.refreshWorking(Rounding.GPU);
        cpu.zeroGrads();
        collector.arm();
        interpreter.forwardBackward(TokenBatch.of(batch), 1.0);
        Map<String, QuantizationHealth> expected = byTensor(collector.finish());

        GpuSession session = GpuSession.get();
        try (DeviceStep step = DeviceStep.load(session.context(), run.plan(), session.cache())) {
            step.upload(ParameterStore.initialize(run.model(), spec.seed()));
            Fp8HealthProbe probe = Fp8HealthProbe.of(run.plan());
            MicroBatchInputs in = MicroBatchInputs.of(batch);
            TrainingSpec.AdamW opt = spec.optimizer();
            step.beginStep(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), 1), MicroBatchInputs.lossWeight(List.of(in)));
            step.runMicroBatchEagerly(in, launch -> probe.measureAfter(launch, step));
            List<Fp8TensorHealth> measured = probe.finish();
            step.runOptimizer();
            step.finishStep();

            assertEquals(expected.keySet(), byTensor(measured).keySet());
            for (Fp8TensorHealth t : measured) {
                QuantizationHealth gpu = t.health();
                QuantizationHealth ref = expected.get(t.tensor());
                double amaxError = GpuComparisons.relative(gpu.amax(), ref.amax());
                double snrError = Math.abs(gpu.snrDb() - ref.snrDb());
                System.out.printf(Locale.ROOT, "  %-44s amax %.4e/%.4e (rel %.1e) sat %.4f/%.4f flush %.4f/%.4f "
                                + "snr %.2f/%.2f dB%n", t.tensor(), gpu.amax(), ref.amax(), amaxError,
                        gpu.saturatedFraction(), ref.saturatedFraction(), gpu.flushedFraction(),
                        ref.flushedFraction(), gpu.snrDb(), ref.snrDb());
                assertEquals(ref.elements(), gpu.elements(), t.tensor());
                assertTrue(amaxError <= (t.operand() == Role.GRADIENTS ? GRADIENT_AMAX_BOUND : AMAX_BOUND),
                        t.tensor() + " amax " + amaxError);
                assertTrue(Double.isFinite(gpu.snrDb()) && snrError <= SNR_BOUND_DB, t.tensor() + " SNR " + snrError);
                assertTrue(Math.abs(gpu.saturatedFraction() - ref.saturatedFraction()) <= FRACTION_BOUND,
                        t.tensor() + " saturated");
                assertTrue(Math.abs(gpu.flushedFraction() - ref.flushedFraction()) <= FRACTION_BOUND,
                        t.tensor() + " flushed");
            }
            System.out.println("tiny/infir2: " + measured.size() + " operands' health within amax " + AMAX_BOUND
                    + " (gradients " + GRADIENT_AMAX_BOUND + "), SNR " + SNR_BOUND_DB + " dB, fractions "
                    + FRACTION_BOUND + " of the CPU oracle");
        }
    }

    /** A health step between replays changes nothing: the next replayed steps equal those of a run without one. */
    @Test
    void aHealthStepLeavesTheGraphReplayBitForBit() {
        TinyRun run = TinyRun.of("infir2");
        List<Batch> batches = run.batches(3);
        GpuSession session = GpuSession.get();
        try (DeviceStep measured = DeviceStep.load(session.context(), run.plan(), session.cache());
             DeviceStep plain = DeviceStep.load(session.context(), run.plan(), session.cache())) {
            measured.captureGraphs();
            plain.captureGraphs();
            Fp8HealthProbe probe = Fp8HealthProbe.of(run.plan());
            List<Float> withHealth = train(measured, run, batches, step -> step == 2 ? Optional.of(probe) : Optional.empty());
            List<Float> without = train(plain, run, batches, step -> Optional.empty());
            System.out.println("tiny/infir2 losses, health at step 2: " + withHealth + ", none: " + without);
            assertTrue(!probe.finish().isEmpty(), "the health step measured nothing");
            assertEquals(without, withHealth);
            for (Parameter p : plain.parameters()) {
                assertArrayEquals(plain.readF32(p.master()), measured.readF32(p.master()), p.name());
            }
        }
    }

    /** Through {@code octet train}'s loop: health lines on the health steps, device memory on every metrics line. */
    @Test
    void aGpuRunWritesHealthAndDeviceMemory(@TempDir Path dir) throws IOException {
        TinyRun run = TinyRun.of("infir2");
        TrainingOptions options = new TrainingOptions(4, dir, 1, 1, false).monitoring(new Monitoring(2, 0));
        GpuTrainer.train(run.model(), run.recipe(), run.spec(), run.data(), options, System.out::println);
        List<JsonObject> health = Files.readAllLines(dir.resolve(Fp8HealthLog.FILE_NAME)).stream()
                .map(line -> JsonParser.parseString(line).getAsJsonObject()).toList();
        assertEquals(List.of(0L, 2L), health.stream().map(h -> h.get("step").getAsLong()).toList());
        int operands = Fp8HealthProbe.of(run.plan()).operands().stream().mapToInt(op -> op.uses().size()).sum();
        for (JsonObject h : health) {
            assertEquals(operands, h.getAsJsonArray("tensors").size());
        }
        List<JsonObject> metrics = MetricsLog.read(dir.resolve(MetricsLog.FILE_NAME));
        for (JsonObject m : metrics.subList(0, 4)) {
            assertTrue(m.get("device_mem_mb").getAsDouble() > 0, m.toString());
        }
        assertTrue(metrics.get(0).has("fp8_worst_snr_db") && metrics.get(2).has("fp8_worst_snr_db"));
        System.out.println("tiny/infir2 on the GPU: " + health.size() + " health lines of " + operands
                + " operands; device memory " + metrics.get(3).get("device_mem_mb") + " MB");
    }

    private static List<Float> train(DeviceStep step, TinyRun run, List<Batch> batches,
                                     Function<Integer, Optional<Fp8HealthProbe>> healthAt) {
        step.upload(ParameterStore.initialize(run.model(), run.spec().seed()));
        TrainingSpec.AdamW opt = run.spec().optimizer();
        List<Float> losses = new ArrayList<>();
        for (int t = 1; t <= batches.size(); t++) {
            MicroBatchInputs in = MicroBatchInputs.of(batches.get(t - 1));
            step.beginStep(StepScalars.of(opt.lr(), opt.beta1(), opt.beta2(), t), MicroBatchInputs.lossWeight(List.of(in)));
            Optional<Fp8HealthProbe> probe = healthAt.apply(t);
            if (probe.isPresent()) {
                step.runMicroBatchEagerly(in, launch -> probe.get().measureAfter(launch, step));
            } else {
                step.runMicroBatch(in);
            }
            step.runOptimizer();
            losses.add(step.finishStep().loss());
        }
        return losses;
    }

    private static Map<String, QuantizationHealth> byTensor(List<Fp8TensorHealth> tensors) {
        return tensors.stream().collect(Collectors.toMap(Fp8TensorHealth::tensor, Fp8TensorHealth::health));
    }
}

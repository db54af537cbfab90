package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.plan.KernelFamily;
import dev.octet.compiler.plan.LaunchCost;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The profile's arithmetic over the tiny step's real launches with made-up times. */
class StepProfileTest {
    private static List<LaunchCost> tinyLaunches() {
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(Path.of("..", "examples", "tiny.octet")), d);
        StepPlan plan = Lowering.compile(CompileTarget.of(p.model("tiny").orElseThrow(), p.recipe("infir2").orElseThrow(),
                p.trainings().getFirst()), Lowering.QUIET);
        return LaunchCost.of(plan);
    }

    @Test
    void sumsByFamilyAndLayerWithRatesAgainstTheirCeilings() {
        List<LaunchCost> costs = tinyLaunches();
        double[] millis = new double[costs.size()];
        Arrays.fill(millis, 0.01);
        StepProfile p = StepProfile.of(costs, millis, "events between launches", MemoryCeiling.H200);
        assertEquals(0.01 * costs.size(), p.totalMillis(), 1e-9);
        assertEquals(costs.size(), p.families().stream().mapToInt(StepProfile.Family::launches).sum());
        assertEquals(1.0, p.families().stream().mapToDouble(f -> f.share(p.totalMillis())).sum(), 1e-9);
        StepProfile.Family fprop = family(p, KernelFamily.GEMM_FPROP);
        double flops = costs.stream().filter(c -> c.family() == KernelFamily.GEMM_FPROP).mapToDouble(LaunchCost::flops).sum();
        assertEquals(flops / (fprop.launches() * 0.01) / 1e9, fprop.rate(), 1e-9);
        assertTrue(fprop.fp8(), "infir2's block GEMMs run in FP8");
        assertEquals(fprop.rate() / GemmPeak.FP8.teraFlops(), fprop.ofCeiling(MemoryCeiling.H200), 1e-12);
        StepProfile.Family attention = family(p, KernelFamily.ATTENTION_FORWARD);
        assertFalse(attention.fp8());
        assertEquals(attention.rate() / GemmPeak.BF16.teraFlops(), attention.ofCeiling(MemoryCeiling.H200), 1e-12);
        StepProfile.Family norm = family(p, KernelFamily.NORM);
        assertEquals(norm.bytes() / (norm.launches() * 0.01) / 1e6, norm.rate(), 1e-9);
        // Memory-bound families against the card's bandwidth: an H100 SXM's is 3,350 GB/s, an H200's 4,800.
        assertEquals(norm.rate() / 4800, norm.ofCeiling(MemoryCeiling.H200), 1e-12);
        assertEquals(norm.rate() / 3350, norm.ofCeiling(MemoryCeiling.of("NVIDIA H100 80GB HBM3")), 1e-12);
        assertEquals(List.of(0, 1), List.copyOf(p.layerMillis().keySet()));
        String table = p.table();
        assertTrue(table.contains("GEMM fprop") && table.contains("TFLOP/s") && table.contains("GB/s"), table);
        assertTrue(table.contains("per layer: 2 layers"), table);
    }

    @Test
    void listsTheKernelsThatTakeMostTimeWithTheirLaunchesSummed() {
        List<LaunchCost> costs = tinyLaunches();
        double[] millis = new double[costs.size()];
        for (int i = 0; i < millis.length; i++) {
            millis[i] = 0.001 * (1 + i % 7);
        }
        StepProfile p = StepProfile.of(costs, millis, "events between launches", MemoryCeiling.H200);
        List<StepProfile.Kernel> heaviest = p.kernels();
        assertEquals(costs.stream().map(c -> c.launch().spec().kernelName()).distinct().count(), heaviest.size());
        for (int i = 1; i < heaviest.size(); i++) {
            assertTrue(heaviest.get(i - 1).sums().millis() >= heaviest.get(i).sums().millis(), "sorted by time");
        }
        StepProfile.Kernel first = heaviest.getFirst();
        double sum = 0;
        int launches = 0;
        for (int i = 0; i < costs.size(); i++) {
            if (costs.get(i).launch().spec().kernelName().equals(first.name())) {
                sum += millis[i];
                launches++;
            }
        }
        assertEquals(sum, first.sums().millis(), 1e-12);
        assertEquals(launches, first.sums().launches());
        assertTrue(p.table().contains("heaviest kernels:") && p.table().contains(first.name()), p.table());
    }

    @Test
    void theBenchTableShowsAProfileUnderItsRow() {
        List<LaunchCost> costs = tinyLaunches();
        double[] millis = new double[costs.size()];
        Arrays.fill(millis, 0.002);
        BenchMeasurement m = FakeBench.measurement("infir2", GemmPeak.FP8);
        BenchMeasurement profiled = new BenchMeasurement(m.model(), m.training(), m.recipe(), m.peak(), m.device(),
                m.microBatch(), m.accumulation(), m.seqLen(), m.flopsPerStep(), m.warmup(), m.stepMillis(), m.arenaBytes(),
                m.usedBeforeBytes(), m.usedPeakBytes(), m.totalBytes(), m.planMillis(), m.coldKernels(), m.loadKernels(),
                m.lastLoss(), Optional.of(StepProfile.of(costs, millis, "events between launches", MemoryCeiling.H200)));
        String table = BenchReport.table(List.of(profiled));
        assertTrue(table.contains("Where infir2's step goes"), table);
        assertTrue(table.contains("attention bwd"), table);
        assertTrue(BenchReport.json(profiled).contains("\"profile\"") && BenchReport.json(profiled).contains("\"kernels\""));
        assertFalse(BenchReport.json(m).contains("\"profile\""));
    }

    private static StepProfile.Family family(StepProfile p, KernelFamily f) {
        return p.families().stream().filter(x -> x.family() == f).findFirst().orElseThrow();
    }
}

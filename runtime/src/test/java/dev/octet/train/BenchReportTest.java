package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The arithmetic of {@link BenchMeasurement} and what {@link BenchReport} prints of it, from a fake measurement. */
class BenchReportTest {
    private static final double EPS = 1e-9;

    @Test
    void medianSpreadTokensPerSecondAndModelFlops() {
        BenchMeasurement m = FakeBench.measurement("infir2", GemmPeak.FP8);
        assertEquals(512, m.tokensPerStep());
        assertEquals(2.2, m.medianMillis(), EPS);
        assertEquals(2.0, m.minMillis(), EPS);
        assertEquals(3.0, m.maxMillis(), EPS);
        assertEquals(1.0 / 2.2, m.relativeSpread(), EPS);
        assertEquals(512 / 0.0022, m.tokensPerSecond(), 1e-6);
        assertEquals(5.0, m.modelTeraFlops(), EPS);
        // An even count takes the mean of the middle two.
        BenchMeasurement even = new BenchMeasurement("tiny", "t", "bf16", GemmPeak.BF16, "d", 2, 3, 64, 1e9, 0,
                List.of(4.0, 1.0, 3.0, 2.0), 1, 0, 1, 2, 0, Optional.empty(), new BenchMeasurement.KernelCompile(1, 1, 0, 1), 1f);
        assertEquals(2.5, even.medianMillis(), EPS);
        assertEquals(2 * 3 * 64, even.tokensPerStep());
        assertThrows(IllegalArgumentException.class, () -> new BenchMeasurement("tiny", "t", "bf16", GemmPeak.BF16, "d", 1, 1,
                1, 1, 0, List.of(), 1, 0, 1, 2, 0, Optional.empty(), new BenchMeasurement.KernelCompile(1, 1, 0, 1), 1f));
    }

    @Test
    void mfuIsAgainstTheDensePeakOfTheRecipesGemmPrecision() {
        assertEquals(989.4, GemmPeak.BF16.teraFlops(), EPS);
        assertEquals(1978.9, GemmPeak.FP8.teraFlops(), EPS);
        assertEquals(5.0 / 1978.9, FakeBench.measurement("infir2", GemmPeak.FP8).mfu(), EPS);
        assertEquals(5.0 / 989.4, FakeBench.measurement("bf16", GemmPeak.BF16).mfu(), EPS);
    }

    @Test
    void optionsRefuseNoTimedStepsAndNegativeWarmup() {
        assertThrows(IllegalArgumentException.class, () -> new BenchOptions(0, 3, true));
        assertThrows(IllegalArgumentException.class, () -> new BenchOptions(5, -1, true));
        assertEquals(0, new BenchOptions(1, 0, false).warmup());
    }

    @Test
    void tableHasAHeaderAndOneRowPerRecipe() {
        String table = BenchReport.table(List.of(FakeBench.measurement("bf16", GemmPeak.BF16),
                FakeBench.measurement("infir2", GemmPeak.FP8)));
        System.out.print(table);
        List<String> lines = table.lines().toList();
        assertEquals(5, lines.size(), table);
        assertEquals("tiny (tiny_pretrain) on NVIDIA H200: 4 x 128 tokens per step; 5 timed steps after 3 warm-up", lines.get(0));
        assertTrue(lines.get(1).contains("989.4 TFLOP/s BF16, 1978.9 TFLOP/s FP8"), lines.get(1));
        assertTrue(lines.get(2).startsWith("recipe ") && lines.get(2).contains("median ms") && lines.get(2).contains("MFU"), lines.get(2));
        String bf16 = lines.get(3);
        assertTrue(bf16.startsWith("bf16 ") && bf16.contains(" bf16 "), bf16);
        for (String cell : List.of("2.200", "2.000-3.000", "232,727", "5.00", "0.51%", "26.6", "800 (+300)",
                "plan 210 ms, kernels cold 3400 ms (31 compiled) / warm 45 ms (31 cached)")) {
            assertTrue(bf16.contains(cell), cell + " in " + bf16);
        }
        String infir2 = lines.get(4);
        assertTrue(infir2.startsWith("infir2 ") && infir2.contains(" fp8 ") && infir2.contains("0.25%"), infir2);
        // The columns line up: every row's MFU ends where the header's does.
        int mfuEnd = lines.get(2).indexOf("MFU") + 3;
        assertEquals('%', bf16.charAt(mfuEnd - 1), bf16);
        assertEquals('%', infir2.charAt(mfuEnd - 1), infir2);
    }

    @Test
    void tableSaysHowTheKernelsLoadedWithoutAColdCompile() {
        String cell = BenchReport.compile(FakeBench.withoutColdCompile("infir2", GemmPeak.FP8));
        assertEquals("plan 210 ms, kernels 900 ms (cold: 29 of 31 from the cache)", cell);
        String accumulating = BenchReport.table(List.of(new BenchMeasurement("tiny", "t", "bf16", GemmPeak.BF16, "NVIDIA H200",
                2, 4, 128, 1e9, 1, List.of(1.0), 1, 0, 1, 2, 0, Optional.empty(),
                new BenchMeasurement.KernelCompile(3, 3, 0, 7), 1f)));
        assertTrue(accumulating.startsWith("tiny (t) on NVIDIA H200: 8 x 128 tokens per step in 4 micro-batches of 2; 1 timed steps"),
                accumulating);
    }

    @Test
    void jsonHoldsTheMeasurementsAndWhatIsDerivedFromThem() {
        String line = BenchReport.json(FakeBench.measurement("infir2", GemmPeak.FP8));
        System.out.println(line);
        assertEquals(1, line.lines().count());
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        assertEquals("infir2", o.get("recipe").getAsString());
        assertEquals("fp8", o.get("gemm_precision").getAsString());
        assertEquals(512, o.get("tokens_per_step").getAsLong());
        assertEquals(5, o.get("steps").getAsInt());
        assertEquals(5, o.getAsJsonArray("step_ms").size());
        assertEquals(2.2, o.get("step_ms_median").getAsDouble(), EPS);
        assertEquals(512 / 0.0022, o.get("tokens_per_s").getAsDouble(), 1e-6);
        assertEquals(5.0, o.get("model_tflops").getAsDouble(), EPS);
        assertEquals(1978.9, o.get("peak_tflops").getAsDouble(), EPS);
        assertEquals(5.0 / 1978.9, o.get("mfu").getAsDouble(), EPS);
        assertEquals(800L << 20, o.get("device_used_peak_bytes").getAsLong());
        assertEquals(3400, o.get("compile_kernels_cold_ms").getAsLong());
        assertEquals(45, o.get("compile_kernels_ms").getAsLong());
        assertEquals(31, o.get("kernels_from_cache").getAsInt());
        assertEquals(0, o.get("kernels_compiled").getAsInt());
        JsonObject warmOnly = JsonParser.parseString(BenchReport.json(FakeBench.withoutColdCompile("bf16", GemmPeak.BF16)))
                .getAsJsonObject();
        assertTrue(warmOnly.has("compile_kernels_cold_ms") && warmOnly.get("compile_kernels_cold_ms").isJsonNull(), warmOnly.toString());
        assertEquals(2, warmOnly.get("kernels_compiled").getAsInt());
    }
}

package dev.octet.gpu.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.octet.cli.ExitCodes;
import dev.octet.cli.OctetMain;
import dev.octet.gpu.kernels.GpuKernelTest;
import dev.octet.testing.ConsoleCapture;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code octet bench} on the device: the tiny example under bf16 and infir2, five timed steps each, as JSON. Every
 * field is present and sane: positive step times with the median between the least and the greatest, tokens/s
 * equal to tokens per step over the median, model TFLOP/s and MFU from the compiler's FLOPs, device memory at
 * least the arena beside what was in use before loading, kernels compiled cold and then loaded warm.
 */
@GpuKernelTest
class BenchCommandGpuTest {
    private static final double REL = 1e-9;

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void benchPrintsOneSaneJsonObjectPerRecipe() {
        String tiny = ExampleModels.examples().resolve("tiny.octet").toString();
        int code = OctetMain.run("bench", tiny, "--recipe", "bf16", "--recipe", "infir2", "--steps", "5", "--json");
        // Shown in the test's output: the progress (stderr) and the JSON lines.
        System.err.print(console.err());
        System.err.print(console.out());
        assertEquals(ExitCodes.OK, code, console.err());
        List<String> lines = console.out().lines().toList();
        assertEquals(2, lines.size(), console.out());
        JsonObject bf16 = JsonParser.parseString(lines.get(0)).getAsJsonObject();
        JsonObject infir2 = JsonParser.parseString(lines.get(1)).getAsJsonObject();
        assertEquals("bf16", bf16.get("recipe").getAsString());
        assertEquals("infir2", infir2.get("recipe").getAsString());
        assertEquals("bf16", bf16.get("gemm_precision").getAsString());
        assertEquals("fp8", infir2.get("gemm_precision").getAsString());
        assertEquals(989.4, bf16.get("peak_tflops").getAsDouble(), 1e-9);
        assertEquals(1978.9, infir2.get("peak_tflops").getAsDouble(), 1e-9);
        for (JsonObject o : List.of(bf16, infir2)) {
            checkSane(o);
        }
    }

    private static void checkSane(JsonObject o) {
        String what = o.toString();
        assertEquals("tiny", o.get("model").getAsString(), what);
        assertFalse(o.get("device").getAsString().isBlank(), what);
        assertEquals(4 * 128, o.get("tokens_per_step").getAsLong(), what);
        assertEquals(5, o.get("steps").getAsInt(), what);
        assertEquals(3, o.get("warmup").getAsInt(), what);
        List<Double> steps = o.getAsJsonArray("step_ms").asList().stream().map(JsonElement::getAsDouble).toList();
        assertEquals(5, steps.size(), what);
        assertTrue(steps.stream().allMatch(ms -> ms > 0 && ms < 10_000), what);
        double median = o.get("step_ms_median").getAsDouble();
        double min = o.get("step_ms_min").getAsDouble();
        double max = o.get("step_ms_max").getAsDouble();
        assertTrue(min > 0 && min <= median && median <= max, what);
        double tokensPerSecond = o.get("tokens_per_s").getAsDouble();
        assertEquals(o.get("tokens_per_step").getAsLong() / (median / 1e3), tokensPerSecond, tokensPerSecond * REL, what);
        double flops = o.get("flops_per_step").getAsDouble();
        double tflops = o.get("model_tflops").getAsDouble();
        assertTrue(flops > 0, what);
        assertEquals(flops / (median / 1e3) / 1e12, tflops, tflops * REL, what);
        double mfu = o.get("mfu").getAsDouble();
        assertEquals(tflops / o.get("peak_tflops").getAsDouble(), mfu, mfu * REL, what);
        assertTrue(mfu > 0 && mfu < 1, what);
        long arena = o.get("arena_bytes").getAsLong();
        long before = o.get("device_used_before_bytes").getAsLong();
        long peak = o.get("device_used_peak_bytes").getAsLong();
        assertTrue(arena > 0 && before > 0, what);
        assertTrue(peak - before >= arena, "the step's use is at least its arena: " + what);
        assertTrue(peak <= o.get("device_total_bytes").getAsLong(), what);
        assertTrue(o.get("compile_plan_ms").getAsLong() >= 0, what);
        int kernels = o.get("kernels").getAsInt();
        assertTrue(kernels > 0, what);
        assertFalse(o.get("compile_kernels_cold_ms").isJsonNull(), what);
        assertTrue(o.get("compile_kernels_cold_ms").getAsLong() >= 0 && o.get("compile_kernels_ms").getAsLong() >= 0, what);
        // Compiled cold into an empty cache first, so the step loads every kernel from it.
        assertEquals(kernels, o.get("kernels_from_cache").getAsInt(), what);
        assertEquals(0, o.get("kernels_compiled").getAsInt(), what);
        assertTrue(Float.isFinite(o.get("loss").getAsFloat()), what);
    }
}

package dev.octet.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;

/** What {@code octet bench} prints of its measurements: a table of one row per recipe, or one JSON object each. */
public final class BenchReport {
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().serializeNulls().create();
    private static final double MIB = 1024.0 * 1024.0;
    private static final String ROW = "%-20s %-5s %10s %17s %12s %8s %7s %10s %18s  %s%n";

    private BenchReport() {}

    /**
     * Two lines on what was measured (model, device, tokens per step, steps, the peaks MFU is against), then the
     * table: a header and one row per measurement.
     */
    public static String table(List<BenchMeasurement> measurements) {
        BenchMeasurement first = measurements.getFirst();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s (%s) on %s: %d x %d tokens per step%s; %d timed steps after %d warm-up%n",
                first.model(), first.training(), first.device(), first.microBatch() * first.accumulation(), first.seqLen(),
                first.accumulation() == 1 ? "" : " in " + first.accumulation() + " micro-batches of " + first.microBatch(),
                first.stepMillis().size(), first.warmup()));
        sb.append(String.format(Locale.ROOT, "MFU against the H200 SXM dense peak of the recipe's GEMMs: %.1f TFLOP/s BF16, %.1f TFLOP/s FP8%n",
                GemmPeak.BF16.teraFlops(), GemmPeak.FP8.teraFlops()));
        sb.append(String.format(Locale.ROOT, ROW, "recipe", "gemms", "median ms", "min-max ms", "tokens/s", "TFLOP/s", "MFU",
                "arena MiB", "device MiB (step)", "compile"));
        for (BenchMeasurement m : measurements) {
            sb.append(String.format(Locale.ROOT, ROW, m.recipe(), m.peak().label(), fixed(m.medianMillis()),
                    fixed(m.minMillis()) + "-" + fixed(m.maxMillis()),
                    String.format(Locale.ROOT, "%,.0f", m.tokensPerSecond()),
                    String.format(Locale.ROOT, "%.2f", m.modelTeraFlops()),
                    String.format(Locale.ROOT, "%.2f%%", 100 * m.mfu()),
                    String.format(Locale.ROOT, "%.1f", m.arenaBytes() / MIB),
                    String.format(Locale.ROOT, "%.0f (+%.0f)", m.usedPeakBytes() / MIB, (m.usedPeakBytes() - m.usedBeforeBytes()) / MIB),
                    compile(m)));
        }
        for (BenchMeasurement m : measurements) {
            m.profile().ifPresent(p -> sb.append(String.format(Locale.ROOT,
                    "%nWhere %s's step goes (one step timed by %s; rates against the "
                            + "FP8 or BF16 tensor-core peak or %s of memory bandwidth):%n", m.recipe(), p.timing(),
                    p.memory().describe())).append(p.table()));
        }
        return sb.toString();
    }

    /** The compile cell: the compiler's passes, then the kernels cold and warm, or how the load got them. */
    static String compile(BenchMeasurement m) {
        BenchMeasurement.KernelCompile load = m.loadKernels();
        String kernels = m.coldKernels()
                .map(cold -> String.format(Locale.ROOT, "kernels cold %d ms (%d compiled) / warm %d ms (%d cached)",
                        cold.wallMillis(), cold.misses(), load.wallMillis(), load.hits()))
                .orElseGet(() -> String.format(Locale.ROOT, "kernels %d ms (%s: %d of %d from the cache)", load.wallMillis(),
                        load.warm() ? "warm" : "cold", load.hits(), load.kernels()));
        return String.format(Locale.ROOT, "plan %d ms, %s", m.planMillis(), kernels);
    }

    /** One line of JSON: what was measured and what was derived from it, for scripts. */
    public static String json(BenchMeasurement m) {
        JsonObject o = new JsonObject();
        o.addProperty("model", m.model());
        o.addProperty("training", m.training());
        o.addProperty("recipe", m.recipe());
        o.addProperty("device", m.device());
        o.addProperty("gemm_precision", m.peak().label());
        o.addProperty("micro_batch", m.microBatch());
        o.addProperty("accumulation", m.accumulation());
        o.addProperty("seq_len", m.seqLen());
        o.addProperty("tokens_per_step", m.tokensPerStep());
        o.addProperty("flops_per_step", m.flopsPerStep());
        o.addProperty("warmup", m.warmup());
        o.addProperty("steps", m.stepMillis().size());
        JsonArray steps = new JsonArray();
        m.stepMillis().forEach(steps::add);
        o.add("step_ms", steps);
        o.addProperty("step_ms_median", m.medianMillis());
        o.addProperty("step_ms_min", m.minMillis());
        o.addProperty("step_ms_max", m.maxMillis());
        o.addProperty("step_spread", m.relativeSpread());
        o.addProperty("tokens_per_s", m.tokensPerSecond());
        o.addProperty("model_tflops", m.modelTeraFlops());
        o.addProperty("peak_tflops", m.peak().teraFlops());
        o.addProperty("mfu", m.mfu());
        o.addProperty("arena_bytes", m.arenaBytes());
        o.addProperty("device_used_before_bytes", m.usedBeforeBytes());
        o.addProperty("device_used_peak_bytes", m.usedPeakBytes());
        o.addProperty("device_total_bytes", m.totalBytes());
        o.addProperty("compile_plan_ms", m.planMillis());
        o.addProperty("kernels", m.loadKernels().kernels());
        if (m.coldKernels().isPresent()) {
            o.addProperty("compile_kernels_cold_ms", m.coldKernels().get().wallMillis());
        } else {
            o.add("compile_kernels_cold_ms", JsonNull.INSTANCE);
        }
        o.addProperty("compile_kernels_ms", m.loadKernels().wallMillis());
        o.addProperty("kernels_from_cache", m.loadKernels().hits());
        o.addProperty("kernels_compiled", m.loadKernels().misses());
        o.addProperty("loss", m.lastLoss());
        m.profile().ifPresent(p -> {
            JsonArray families = new JsonArray();
            p.families().forEach(f -> families.add(profileRow(f, p)));
            JsonArray kernels = new JsonArray();
            for (StepProfile.Kernel k : p.kernels()) {
                JsonObject row = profileRow(k.sums(), p);
                row.addProperty("kernel", k.name());
                kernels.add(row);
            }
            JsonObject profile = new JsonObject();
            profile.addProperty("total_ms", p.totalMillis());
            profile.addProperty("timing", p.timing());
            profile.addProperty("memory_gb_per_s", p.memory().gbPerSecond());
            profile.add("families", families);
            profile.add("kernels", kernels);
            JsonObject layers = new JsonObject();
            p.layerMillis().forEach((layer, ms) -> layers.addProperty(Integer.toString(layer), ms));
            profile.add("layer_ms", layers);
            o.add("profile", profile);
        });
        return GSON.toJson(o);
    }

    private static JsonObject profileRow(StepProfile.Family f, StepProfile p) {
        JsonObject row = new JsonObject();
        row.addProperty("family", f.family().label());
        row.addProperty("launches", f.launches());
        row.addProperty("ms", f.millis());
        row.addProperty("share", f.share(p.totalMillis()));
        row.addProperty(f.family().computeBound() ? "tflops" : "gb_per_s", f.rate());
        row.addProperty("of_peak", f.ofCeiling(p.memory()));
        return row;
    }

    private static String fixed(double millis) {
        return String.format(Locale.ROOT, millis < 100 ? "%.3f" : "%.1f", millis);
    }
}

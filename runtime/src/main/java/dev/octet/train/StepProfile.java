package dev.octet.train;

import dev.octet.compiler.cuda.gemm.Fp8WgmmaGemm;
import dev.octet.compiler.plan.KernelFamily;
import dev.octet.compiler.plan.LaunchCost;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where one step's device time goes: per kernel family its launches, milliseconds, share of the step and the
 * rate it reached against the chip's ceiling (tensor-core FLOP/s for GEMMs and attention, memory bandwidth for
 * the rest), and the milliseconds of each transformer layer.
 */
public record StepProfile(List<Family> families, Map<Integer, Double> layerMillis, double totalMillis) {
    /** H200 SXM HBM3e bandwidth by the datasheet, the ceiling of the memory-bound families. */
    public static final double MEMORY_GB_PER_S = 4800;

    /**
     * One family's launches. {@code fp8}: every GEMM of it runs on FP8 tensor cores (its ceiling is the FP8
     * peak, else the BF16 one).
     */
    public record Family(KernelFamily family, int launches, double millis, double flops, long bytes, boolean fp8) {
        public double share(double totalMillis) {
            return millis / totalMillis;
        }

        /** TFLOP/s for a compute-bound family, GB/s for the rest. */
        public double rate() {
            return family.computeBound() ? flops / millis / 1e9 : bytes / millis / 1e6;
        }

        /** The rate against its ceiling. */
        public double ofCeiling() {
            double ceiling = family.computeBound() ? (fp8 ? GemmPeak.FP8 : GemmPeak.BF16).teraFlops() : MEMORY_GB_PER_S;
            return rate() / ceiling;
        }
    }

    /** Sums {@code millis} (one per launch of the plan, as {@code costs}) by family and by layer. */
    public static StepProfile of(List<LaunchCost> costs, double[] millis) {
        if (costs.size() != millis.length) {
            throw new IllegalArgumentException(costs.size() + " launches but " + millis.length + " times");
        }
        Map<KernelFamily, double[]> sums = new EnumMap<>(KernelFamily.class);  // launches, ms, flops, bytes, all fp8
        Map<Integer, Double> layers = new TreeMap<>();
        double total = 0;
        for (int i = 0; i < millis.length; i++) {
            LaunchCost c = costs.get(i);
            double[] s = sums.computeIfAbsent(c.family(), f -> new double[] {0, 0, 0, 0, 1});
            s[0]++;
            s[1] += millis[i];
            s[2] += c.flops();
            s[3] += c.bytes();
            if (c.family().computeBound() && c.flops() > 0 && !(c.launch().spec() instanceof Fp8WgmmaGemm)) {
                s[4] = 0;
            }
            if (c.layer() >= 0) {
                layers.merge(c.layer(), millis[i], Double::sum);
            }
            total += millis[i];
        }
        List<Family> families = new ArrayList<>();
        sums.forEach((f, s) -> families.add(new Family(f, (int) s[0], s[1], s[2], (long) s[3], s[4] == 1)));
        return new StepProfile(families, layers, total);
    }

    /** The table {@code octet bench --profile} prints under a recipe's row. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        String row = "  %-15s %9s %10s %7s %14s %10s%n";
        sb.append(String.format(Locale.ROOT, row, "family", "launches", "ms", "share", "rate", "of peak"));
        for (Family f : families) {
            sb.append(String.format(Locale.ROOT, row, f.family().label(), f.launches(),
                    String.format(Locale.ROOT, "%.3f", f.millis()), String.format(Locale.ROOT, "%.1f%%", 100 * f.share(totalMillis)),
                    f.family().computeBound() ? String.format(Locale.ROOT, "%.1f TFLOP/s", f.rate())
                            : String.format(Locale.ROOT, "%.0f GB/s", f.rate()),
                    String.format(Locale.ROOT, "%.1f%%", 100 * f.ofCeiling())));
        }
        sb.append(String.format(Locale.ROOT, row, "total", families.stream().mapToInt(Family::launches).sum(),
                String.format(Locale.ROOT, "%.3f", totalMillis), "100.0%", "", ""));
        if (!layerMillis.isEmpty()) {
            double min = layerMillis.values().stream().mapToDouble(Double::doubleValue).min().orElse(0);
            double max = layerMillis.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
            double sum = layerMillis.values().stream().mapToDouble(Double::doubleValue).sum();
            sb.append(String.format(Locale.ROOT, "  per layer: %d layers, %.3f ms each on average (%.3f-%.3f), %.1f%% of the step%n",
                    layerMillis.size(), sum / layerMillis.size(), min, max, 100 * sum / totalMillis));
        }
        return sb.toString();
    }
}

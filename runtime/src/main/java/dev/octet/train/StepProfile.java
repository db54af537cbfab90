package dev.octet.train;

import dev.octet.compiler.cuda.gemm.Fp8WgmmaGemm;
import dev.octet.compiler.plan.KernelFamily;
import dev.octet.compiler.plan.LaunchCost;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where one step's device time goes: per kernel family its launches, milliseconds, share of the step and the
 * rate it reached against the chip's ceiling (tensor-core FLOP/s for GEMMs and attention, the card's memory
 * bandwidth for the rest: {@code memory}), the milliseconds of each transformer layer, and every distinct kernel's
 * sums, heaviest first (where a family's time goes).
 */
public record StepProfile(List<Family> families, Map<Integer, Double> layerMillis, double totalMillis,
                          List<Kernel> kernels, String timing, MemoryCeiling memory) {
    /** Kernels the table lists under the families (the JSON has them all). */
    static final int HEAVIEST = 12;

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

        /** The rate against its ceiling: the tensor-core peak, or {@code memory}'s bandwidth. */
        public double ofCeiling(MemoryCeiling memory) {
            double ceiling = family.computeBound() ? (fp8 ? GemmPeak.FP8 : GemmPeak.BF16).teraFlops() : memory.gbPerSecond();
            return rate() / ceiling;
        }
    }

    /** One distinct kernel's launches, summed as a family's are. */
    public record Kernel(String name, Family sums) {}

    /**
     * Sums {@code millis} (one per launch of the plan, as {@code costs}) by family, by layer and by kernel; {@code timing}
     * says how the times were taken (DeviceStep.LaunchTimes), {@code memory} what the memory-bound families are measured
     * against.
     */
    public static StepProfile of(List<LaunchCost> costs, double[] millis, String timing, MemoryCeiling memory) {
        if (costs.size() != millis.length) {
            throw new IllegalArgumentException(costs.size() + " launches but " + millis.length + " times");
        }
        Map<KernelFamily, double[]> sums = new EnumMap<>(KernelFamily.class);  // launches, ms, flops, bytes, all fp8
        Map<String, double[]> byKernel = new HashMap<>();
        Map<String, KernelFamily> kernelFamily = new HashMap<>();
        Map<Integer, Double> layers = new TreeMap<>();
        double total = 0;
        for (int i = 0; i < millis.length; i++) {
            LaunchCost c = costs.get(i);
            String name = c.launch().spec().kernelName();
            kernelFamily.putIfAbsent(name, c.family());
            add(sums.computeIfAbsent(c.family(), f -> new double[] {0, 0, 0, 0, 1}), c, millis[i]);
            add(byKernel.computeIfAbsent(name, n -> new double[] {0, 0, 0, 0, 1}), c, millis[i]);
            if (c.layer() >= 0) {
                layers.merge(c.layer(), millis[i], Double::sum);
            }
            total += millis[i];
        }
        List<Family> families = new ArrayList<>();
        sums.forEach((f, s) -> families.add(family(f, s)));
        List<Kernel> kernels = byKernel.entrySet().stream()
                .map(e -> new Kernel(e.getKey(), family(kernelFamily.get(e.getKey()), e.getValue())))
                .sorted(Comparator.comparingDouble((Kernel k) -> -k.sums().millis()).thenComparing(Kernel::name))
                .toList();
        return new StepProfile(families, layers, total, kernels, timing, memory);
    }

    private static void add(double[] s, LaunchCost c, double millis) {
        s[0]++;
        s[1] += millis;
        s[2] += c.flops();
        s[3] += c.bytes();
        if (c.family().computeBound() && c.flops() > 0 && !(c.launch().spec() instanceof Fp8WgmmaGemm)) {
            s[4] = 0;
        }
    }

    private static Family family(KernelFamily f, double[] s) {
        return new Family(f, (int) s[0], s[1], s[2], (long) s[3], s[4] == 1);
    }

    /** The table {@code octet bench --profile} prints under a recipe's row. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        String row = "  %-15s %9s %10s %7s %14s %10s%n";
        sb.append(String.format(Locale.ROOT, row, "family", "launches", "ms", "share", "rate", "of peak"));
        for (Family f : families) {
            Object[] c = cells(f);
            sb.append(String.format(Locale.ROOT, row, f.family().label(), f.launches(), c[0], c[1], c[2], c[3]));
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
        if (!kernels.isEmpty()) {
            sb.append("  heaviest kernels:\n");
            String kernelRow = "  %-15s %9s %10s %7s %14s %10s  %s%n";
            for (Kernel k : kernels.subList(0, Math.min(HEAVIEST, kernels.size()))) {
                Object[] c = cells(k.sums());
                sb.append(String.format(Locale.ROOT, kernelRow, k.sums().family().label(), k.sums().launches(), c[0], c[1], c[2],
                        c[3], k.name()));
            }
        }
        return sb.toString();
    }

    /** Milliseconds, share, rate and share of the ceiling, formatted. */
    private Object[] cells(Family f) {
        return new Object[] {String.format(Locale.ROOT, "%.3f", f.millis()),
                String.format(Locale.ROOT, "%.1f%%", 100 * f.share(totalMillis)),
                f.family().computeBound() ? String.format(Locale.ROOT, "%.1f TFLOP/s", f.rate())
                        : String.format(Locale.ROOT, "%.0f GB/s", f.rate()),
                String.format(Locale.ROOT, "%.1f%%", 100 * f.ofCeiling(memory))};
    }
}

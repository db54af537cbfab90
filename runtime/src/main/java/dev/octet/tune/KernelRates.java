package dev.octet.tune;

import dev.octet.compiler.plan.KernelFamily;
import dev.octet.compiler.plan.LaunchCost;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Measured rates of Octet's kernels on one device, per kernel kind (a kernel's name without its shapes), from
 * {@code octet bench --profile --json} turned into a table by {@code scripts/kernel-rates.py}: TFLOP/s for GEMMs
 * and attention, GB/s of the buffers a launch touches for the rest. A launch is priced at its work over its kind's
 * rate, or its family's where the table lacks the kind, never below {@value #FLOOR_US} µs (about what the smallest
 * kernels measured per launch), less what a profiled launch costs that a step replayed as a CUDA graph does not
 * (the table's {@code replay:overhead}), and never below {@value #REPLAYED_FLOOR_US} µs.
 */
public final class KernelRates {
    /** The table measured on an H200, shipped with Octet. */
    public static final String H200 = "kernel-rates-h200.tsv";
    static final double FLOOR_US = 5.0;
    static final double REPLAYED_FLOOR_US = 1.0;
    private static final String OVERHEAD = "replay:overhead";

    private record Rate(String unit, double rate, double microsPerLaunch) {}

    private final Map<String, Rate> byKind;
    private final String source;

    private KernelRates(Map<String, Rate> byKind, String source) {
        this.byKind = Map.copyOf(byKind);
        this.source = source;
    }

    /** The table shipped as resource {@code name} beside this class, if there is one. */
    public static Optional<KernelRates> shipped(String name) {
        try (InputStream in = KernelRates.class.getResourceAsStream(name)) {
            return in == null ? Optional.empty() : Optional.of(read(in, name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static KernelRates read(InputStream in, String name) throws IOException {
        Map<String, Rate> rates = new HashMap<>();
        String measured = "";
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line = r.readLine(); line != null; line = r.readLine()) {
            if (line.startsWith("# measured by ")) {
                measured = line.substring(2);
                continue;
            }
            if (line.isBlank() || line.startsWith("kind\t") || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            if (f.length != 6) {
                throw new IOException(name + ": expected 6 tab-separated fields, found " + f.length + ": " + line);
            }
            // Kinds as this version names them (a table from an older script may name the stages); the first row wins.
            rates.putIfAbsent(kind(f[0]), new Rate(f[2], Double.parseDouble(f[3]), Double.parseDouble(f[4])));
        }
        return new KernelRates(rates, name + (measured.isEmpty() ? "" : " (" + measured + ")"));
    }

    /** Where the table came from, for reports. */
    public String source() {
        return source;
    }

    /**
     * A kernel's kind: its name with shapes and sizes written {@code #} (a GEMM's pipeline depth after its tile too: the
     * stages follow from shared memory, which other parts of a kernel take), E5M2 as E4M3 and group scales in either
     * order ({@code g128t}: a weight gradient's, column-major) as {@code g128} (one rate each); as the script writes it.
     * Variants of one template that differ only in the bytes they move share its rate (per byte): a block quantization
     * that reads a weight's master ({@code _of_master}) the stored one's, a quantization that also writes its tiles'
     * column sums ({@code _column_sums}, a bias gradient's first stage) the one without, AdamW without the working copy
     * AdamW with it,
     * one launch over several buffers ({@code _N_buffers_}) the single kernel's, and for AdamW the rate of the updates
     * with decay and the working copy, whose large buffers make it a bandwidth rate (the kinds of small buffers are
     * launch-bound: a per-byte rate of those would price a batch of them hundreds of times too high).
     */
    static String kind(String kernelName) {
        return kernelName.replaceAll("\\d+x\\d+", "#x#")
                .replaceAll("_([mnkp])\\d+", "_$1#")
                .replaceAll("_\\d+(?=_|$)", "_#")
                .replaceAll("_t#x#_s\\d+", "_t#x#_s#")
                .replaceAll("_g(\\d+)t(?=_)", "_g$1")
                .replace("e5m2", "e4m3")
                .replaceAll("^(quantize_block.*)_of_master$", "$1")
                .replaceAll("^(quantize_.*)_column_sums$", "$1")
                .replaceAll("^adamw_#_buffers_#_h[0-9a-f]+_(m\\w+?)_(?:no_)?decay(?:_bf16_shadow)?$", "adamw_#_$1_decay_bf16_shadow")
                .replaceAll("_#_buffers_#_h[0-9a-f]+", "_#")
                .replaceAll("^(adamw_#_m\\w+?_(?:no_)?decay)$", "$1_bf16_shadow");
    }

    /** Whether the table holds the kind of kernel {@code kernelName}. */
    boolean measured(String kernelName) {
        return byKind.containsKey(kind(kernelName));
    }

    /** The launch's estimated time in seconds. */
    public double seconds(LaunchCost launch) {
        KernelFamily family = launch.family();
        Rate rate = byKind.get(kind(launch.launch().kernel().name()));
        if (rate == null) {
            rate = byKind.get("family:" + family.label());
        }
        double profiled = FLOOR_US * 1e-6;
        if (rate != null) {
            double work = switch (rate.unit()) {
                case "tflops" -> launch.flops() / 1e12;
                case "gb_per_s" -> launch.bytes() / 1e9;
                default -> 0;
            };
            profiled = Math.max(profiled, work > 0 && rate.rate() > 0 ? work / rate.rate() : rate.microsPerLaunch() * 1e-6);
        }
        Rate overhead = byKind.get(OVERHEAD);
        return Math.max(REPLAYED_FLOOR_US * 1e-6, profiled - (overhead == null ? 0 : overhead.microsPerLaunch() * 1e-6));
    }
}

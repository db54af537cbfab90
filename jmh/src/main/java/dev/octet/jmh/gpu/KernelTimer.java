package dev.octet.jmh.gpu;

import dev.octet.gpu.CudaEvent;
import dev.octet.gpu.CudaStream;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * Queues a benchmark's launches {@link #LAUNCHES} times between two CUDA events and waits for the second: JMH
 * times the whole call (host and device, divided by {@code @OperationsPerInvocation(LAUNCHES)}), the events
 * time the device alone. Device time is summed over measurement iterations only and reported once per trial
 * by {@link #report}: one line on stdout, and one JSON line appended to {@code $OCTET_BENCH_METRICS} when that
 * is set (scripts/gpu-bench-remote joins it with JMH's results into a table).
 */
public final class KernelTimer implements AutoCloseable {
    /** Launches per measured call: enough to keep the GPU busy while the host queues, few enough for 1 s iterations. */
    public static final int LAUNCHES = 20;

    /** What one launch moves or computes, for the rate in the report. */
    public sealed interface Work {
        /** Floating-point operations of one launch (multiply-adds count two). */
        record Flops(double flops) implements Work {}

        /** Bytes one launch must read and write at least (each input once, each output once). */
        record Bytes(double bytes) implements Work {}
    }

    private final GpuBench bench;
    private final CudaEvent start = CudaEvent.create();
    private final CudaEvent end = CudaEvent.create();
    private boolean measuring;
    private double deviceMillis;
    private long launches;

    public KernelTimer(GpuBench bench) {
        this.bench = bench;
    }

    /** Call from {@code @Setup(Level.Iteration)}: only measurement iterations count towards the report. */
    public void beginIteration(IterationParams iteration) {
        bench.makeCurrent();
        measuring = iteration.getType() == IterationType.MEASUREMENT;
    }

    /** The measured work: {@code launches}, in order, {@link #LAUNCHES} times, then wait for the device. */
    public void run(List<Launch> sequence) {
        CudaStream stream = bench.stream();
        start.record(stream);
        for (int i = 0; i < LAUNCHES; i++) {
            for (Launch launch : sequence) {
                launch.queue(stream);
            }
        }
        end.record(stream);
        float millis = end.millisSince(start);
        if (measuring) {
            deviceMillis += millis;
            launches += LAUNCHES;
        }
    }

    /** Prints device time per launch and the rate of {@code work}; call from {@code @TearDown(Level.Trial)}. */
    public void report(BenchmarkParams params, String kernels, Work work) {
        if (launches == 0) {
            return;
        }
        double micros = deviceMillis * 1e3 / launches;
        String unit;
        double rate;
        double amount;
        switch (work) {
            case Work.Flops f -> {
                unit = "TFLOP/s";
                amount = f.flops();
                rate = f.flops() / (micros * 1e-6) / 1e12;
            }
            case Work.Bytes b -> {
                unit = "GB/s";
                amount = b.bytes();
                rate = b.bytes() / (micros * 1e-6) / 1e9;
            }
        }
        StringJoiner shown = new StringJoiner(" ");
        StringJoiner json = new StringJoiner(", ", "{", "}");
        for (String key : params.getParamsKeys()) {
            shown.add(key + "=" + params.getParam(key));
            json.add(quote(key) + ": " + quote(params.getParam(key)));
        }
        System.out.printf(Locale.ROOT, "%n  [device] %s %s: %.2f us per launch (CUDA events, %d launches), %.1f %s%n",
                shortName(params.getBenchmark()), shown, micros, launches, rate, unit);
        String metrics = System.getenv("OCTET_BENCH_METRICS");
        if (metrics != null && !metrics.isBlank()) {
            String line = String.format(Locale.ROOT,
                    "{\"benchmark\": %s, \"params\": %s, \"kernels\": %s, \"device_us\": %.4f, \"launches\": %d, "
                            + "\"work\": %.6g, \"unit\": %s, \"rate\": %.4f}%n",
                    quote(params.getBenchmark()), json, quote(kernels), micros, launches, amount, quote(unit), rate);
            try {
                Files.writeString(Path.of(metrics), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                System.err.println("could not append to OCTET_BENCH_METRICS=" + metrics + ": " + e.getMessage());
            }
        }
    }

    /** The kernel names of a launch sequence, for the report. */
    public static String names(List<Launch> sequence) {
        StringJoiner names = new StringJoiner(" + ");
        sequence.forEach(l -> names.add(l.kernel().name()));
        return names.toString();
    }

    private static String shortName(String benchmark) {
        String[] parts = benchmark.split("\\.");
        return parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : benchmark;
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    @Override
    public void close() {
        bench.makeCurrent();
        start.close();
        end.close();
    }
}

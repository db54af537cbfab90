package dev.octet.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalLong;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows training progress: step/total, loss, tokens per second, memory in use (once known) and the time left.
 *
 * <p>On a terminal it draws a progress bar that redraws itself in place. Anywhere else (CI logs,
 * pipes, files) carriage returns and escape codes would be garbage, so it prints one plain line
 * every {@code plainEvery} steps and at the last step instead.
 */
public final class TrainingProgress implements AutoCloseable {

    public enum Display {
        BAR, PLAIN;

        /** BAR when standard output is an interactive terminal, PLAIN otherwise. */
        public static Display forStandardOutput() {
            var console = System.console();
            return console != null && console.isTerminal() ? BAR : PLAIN;
        }
    }

    private final Display display;
    private final PrintStream out;
    private final long totalSteps;
    private final long firstStep;
    private final int plainEvery;
    private final long startNanos;
    private final ProgressBar bar;
    private OptionalLong memoryBytes = OptionalLong.empty();

    private TrainingProgress(Display display, PrintStream out, long firstStep, long totalSteps, int plainEvery) {
        if (totalSteps < 1 || firstStep < 0 || firstStep > totalSteps || plainEvery < 1) {
            throw new IllegalArgumentException("progress from step " + firstStep + " of " + totalSteps + " every " + plainEvery);
        }
        this.display = display;
        this.out = out;
        this.totalSteps = totalSteps;
        this.firstStep = firstStep;
        this.plainEvery = plainEvery;
        this.startNanos = System.nanoTime();
        this.bar = display == Display.BAR
                ? new ProgressBarBuilder()
                        .setTaskName("train")
                        .setInitialMax(totalSteps)
                        .startsFrom(firstStep, Duration.ZERO)
                        .setStyle(ProgressBarStyle.UNICODE_BLOCK)
                        .setConsumer(new ConsoleProgressBarConsumer(out))
                        .setUpdateIntervalMillis(250)
                        .build()
                : null;
    }

    /** Progress on standard output, as a bar or as plain lines depending on what it is connected to. */
    public static TrainingProgress onStandardOutput(long firstStep, long totalSteps, int plainEvery) {
        return new TrainingProgress(Display.forStandardOutput(), System.out, firstStep, totalSteps, plainEvery);
    }

    /**
     * Progress in a given display on a given stream; {@code firstStep} is where a resumed run starts
     * (0 for a fresh one) and steps are counted 1..totalSteps.
     */
    public static TrainingProgress of(Display display, PrintStream out, long firstStep, long totalSteps, int plainEvery) {
        return new TrainingProgress(display, out, firstStep, totalSteps, plainEvery);
    }

    public Display display() {
        return display;
    }

    /**
     * The memory in use to show from now on (device memory on the GPU, the JVM heap on the CPU): measured on
     * logged steps only, so the figure between them is the last one measured.
     */
    public void showMemory(long bytes) {
        memoryBytes = OptionalLong.of(bytes);
    }

    /** Reports that {@code step} has finished with this loss and throughput. */
    public void update(long step, double loss, double tokensPerSecond) {
        String numbers = String.format(Locale.ROOT, "loss %.4f | %s tok/s", loss, compact(tokensPerSecond))
                + (memoryBytes.isPresent() ? " | mem " + bytes(memoryBytes.getAsLong()) : "");
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(numbers);
        } else if (step % plainEvery == 0 || step == totalSteps) {
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            long done = step - firstStep;
            String eta = done > 0 ? clock(elapsed / done * (totalSteps - step)) : "?";
            out.println(String.format(Locale.ROOT, "step %d/%d (%.0f%%) | %s | elapsed %s | eta %s",
                    step, totalSteps, 100.0 * step / totalSteps, numbers, clock(elapsed), eta));
            out.flush();
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
        out.flush();
    }

    private static String compact(double value) {
        if (value >= 1e6) return String.format(Locale.ROOT, "%.2fM", value / 1e6);
        if (value >= 1e4) return String.format(Locale.ROOT, "%.1fk", value / 1e3);
        return String.format(Locale.ROOT, "%.0f", value);
    }

    /** {@code 812 MiB} below a GiB, {@code 5.3 GiB} from there. */
    static String bytes(long bytes) {
        double mib = bytes / (1024.0 * 1024.0);
        return mib < 1024 ? String.format(Locale.ROOT, "%.0f MiB", mib) : String.format(Locale.ROOT, "%.1f GiB", mib / 1024);
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}

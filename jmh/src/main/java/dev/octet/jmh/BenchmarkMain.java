package dev.octet.jmh;

import dev.octet.gpu.CudaAvailability;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The benchmarks jar's entry point: JMH's own command line, except that where the CUDA probe says Unavailable
 * the GPU benchmarks ({@code dev.octet.jmh.gpu}) are left out with one line saying why, instead of each one
 * failing in its setup with a stack trace. Listing ({@code -l}, {@code -lp}) and help always show them all.
 */
public final class BenchmarkMain {
    /** Every GPU benchmark lives in this package; JMH's excludes are regular expressions over full names. */
    static final String GPU_BENCHMARKS = "^dev\\.octet\\.jmh\\.gpu\\.";

    private BenchmarkMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions options;
        try {
            options = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            org.openjdk.jmh.Main.main(args); // JMH prints the problem and its usage
            return;
        }
        if (options.shouldHelp() || options.shouldList() || options.shouldListWithParams()
                || options.shouldListProfilers() || options.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        if (!(CudaAvailability.probe() instanceof CudaAvailability.Unavailable why)) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        System.out.println("GPU benchmarks skipped: " + why.reason());
        try {
            new Runner(new OptionsBuilder().parent(options).exclude(GPU_BENCHMARKS).build()).run();
        } catch (NoBenchmarksException e) {
            // Only GPU benchmarks were asked for: the line above is the whole answer.
        } catch (RunnerException e) {
            System.err.println("ERROR: " + e.getMessage());
            System.exit(1);
        }
    }
}

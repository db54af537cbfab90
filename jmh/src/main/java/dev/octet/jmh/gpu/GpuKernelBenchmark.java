package dev.octet.jmh.gpu;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One generated kernel (or a short sequence launched together, such as the three kernels of the attention
 * backward) timed on the device. A subclass's trial setup calls {@link #prepare}: inputs are allocated and
 * filled once, the kernels compiled once (through the compile cache) and bound; the measured method then only
 * queues {@link KernelTimer#LAUNCHES} launches and waits for them. JMH's score is time per launch (host and
 * device); the device time and the rate (TFLOP/s or GB/s) are printed once per trial in the teardown.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
// Forks start with -cp, not -jar, so the jar manifest's Enable-Native-Access does not reach them.
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public abstract class GpuKernelBenchmark {
    protected GpuBench bench;
    protected DeviceTensors tensors;
    private KernelTimer timer;
    private List<Launch> sequence = List.of();
    private KernelTimer.Work work;

    /** Opens the session and an empty set of buffers; allocate inputs, then call {@link #prepare}. */
    protected final void open() {
        bench = GpuBench.get();
        tensors = bench.tensors();
        timer = new KernelTimer(bench);
    }

    /** What the measured method launches, and what one pass of it computes or moves. */
    protected final void prepare(List<Launch> sequence, KernelTimer.Work work) {
        this.sequence = List.copyOf(sequence);
        this.work = work;
        bench.stream().synchronize();
    }

    @Setup(Level.Iteration)
    public void beginIteration(IterationParams iteration) {
        timer.beginIteration(iteration);
    }

    @Benchmark
    @OperationsPerInvocation(KernelTimer.LAUNCHES)
    public void launch() {
        timer.run(sequence);
    }

    @TearDown(Level.Trial)
    public void report(BenchmarkParams params) {
        if (timer != null) {
            timer.report(params, KernelTimer.names(sequence), work);
            timer.close();
        }
        if (tensors != null) {
            tensors.close();
        }
    }
}

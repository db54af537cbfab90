package dev.octet.jmh;

import dev.octet.numerics.Axis;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Fp8Gemm;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.QuantizedMatrix;
import dev.octet.numerics.Quantizer;
import dev.octet.numerics.ScaleType;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU reference's FP8 path at the tiny model's shapes: InfiR2 quantization (1×128 groups, 128×128
 * blocks, UE8M0) and the promoted FP8 GEMM. This is the oracle's cost, not a GPU figure.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CpuFp8Benchmark {
    @Param({"512"})
    int tokens;

    @Param({"128"})
    int k;

    @Param({"384"})
    int n;

    float[] activations;
    float[] weights;
    QuantizedMatrix xq;
    QuantizedMatrix wq;

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(1);
        activations = new float[tokens * k];
        weights = new float[n * k];
        for (int i = 0; i < activations.length; i++) {
            activations[i] = (float) (r.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) ((r.nextDouble() * 2 - 1) * 0.05);
        }
        xq = quantizeActivations();
        wq = Quantizer.quantize(weights, n, k, new Granularity.Block(128), Axis.COLS, Fp8Format.E4M3, ScaleType.UE8M0);
    }

    @Benchmark
    public QuantizedMatrix quantizeActivations() {
        return Quantizer.quantize(activations, tokens, k, new Granularity.Group(128), Axis.COLS, Fp8Format.E4M3, ScaleType.UE8M0);
    }

    @Benchmark
    public float[] fp8GemmFprop() {
        return Fp8Gemm.multiply(xq, wq);
    }
}

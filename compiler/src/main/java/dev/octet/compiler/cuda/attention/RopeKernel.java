package dev.octet.compiler.cuda.attention;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.CudaPrelude;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.KernelSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.DType;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.RopeScaling;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rotary position embedding of q or k, bf16[tokens, heads·headDim], "rotate-half" pairing as in Llama/Qwen
 * (element i pairs with i + headDim/2), angle {@code position·theta^(−2i/headDim)}; backward rotates the output
 * gradient by the negated angle. One thread per (token, pair i) rotates that pair in every head.
 *
 * <p>Angles: the inverse frequencies are baked into the source as FP64 constants computed exactly as the CPU
 * oracle computes them, and {@code position·invFreq} and its sine and cosine are evaluated in FP64 on the
 * device. In FP32 an angle of a few thousand radians is off by ~1e-4, which would move BF16 results by an ulp
 * now and then; FP64 costs one sincos per (token, pair), shared by all heads. The rotation itself is FP32 on
 * BF16 inputs, rounded once to BF16.
 *
 * <p>Positions: {@link Positions#IN_SEQUENCE} uses {@code token % seq}; {@link Positions#IN_DOCUMENT} reads
 * an i32[tokens] buffer of positions that restart at every document start ({@link DocumentPositionsKernel}).
 *
 * <p>Parameters: out of place {@code x, [positions], out}; in place {@code x, [positions]} with x read and written.
 */
public record RopeKernel(Direction direction, int tokens, int seq, int heads, int headDim, double theta,
                         Positions positions, boolean inPlace, Optional<RopeScaling> scaling) implements KernelSpec {
    public enum Direction { FORWARD, BACKWARD }

    public enum Positions { IN_SEQUENCE, IN_DOCUMENT }

    static final int THREADS = 256;

    /** Unscaled frequencies. */
    public RopeKernel(Direction direction, int tokens, int seq, int heads, int headDim, double theta, Positions positions,
                      boolean inPlace) {
        this(direction, tokens, seq, heads, headDim, theta, positions, inPlace, Optional.empty());
    }

    public RopeKernel {
        require(seq >= 1 && tokens >= seq && tokens % seq == 0,
                "tokens (" + tokens + ") must be a positive multiple of seq (" + seq + ")");
        require(heads >= 1, "heads must be at least 1, got " + heads);
        require(headDim >= 2 && headDim % 2 == 0, "headDim must be even, got " + headDim);
        require(theta > 1 && Double.isFinite(theta), "theta must be a finite number above 1, got " + theta);
        require((long) tokens * heads * headDim <= Integer.MAX_VALUE,
                "tokens·heads·headDim must fit in 32-bit indices, got " + (long) tokens * heads * headDim);
    }

    @Override
    public String kernelName() {
        return "rope_" + direction.name().toLowerCase() + "_t" + tokens + "_s" + seq + "_h" + heads + "_d" + headDim
                + "_theta" + Double.toString(theta).replace('.', 'p').replace('-', 'm').replace('E', 'e')
                + (positions == Positions.IN_DOCUMENT ? "_docpos" : "") + (inPlace ? "_inplace" : "")
                + scaling.map(s -> "_llama3_f" + token(s.factor()) + "_l" + token(s.lowFreqFactor()) + "_h"
                        + token(s.highFreqFactor()) + "_o" + s.originalMaxSeq()).orElse("");
    }

    public List<KernelParam> params() {
        List<KernelParam> params = new ArrayList<>();
        params.add(inPlace ? KernelParam.inOut("x", DType.BF16) : KernelParam.in("x", DType.BF16));
        if (positions == Positions.IN_DOCUMENT) {
            params.add(KernelParam.in("positions", DType.I32));
        }
        if (!inPlace) {
            params.add(KernelParam.out("out", DType.BF16));
        }
        return List.copyOf(params);
    }

    /** {@code 1 / theta^(2i/headDim)} for i < headDim/2, scaled where asked, as the oracle computes them. */
    double[] inverseFrequencies() {
        return ModelConfig.ropeInverseFrequencies(theta, headDim, scaling);
    }

    private static String token(double x) {
        return Double.toString(x).replace('.', 'p').replace('-', 'm').replace('E', 'e');
    }

    @Override
    public CudaKernel emit() {
        String description = """
                RoPE %s (rotate-half pairs, theta %s%s), %s, %s positions.
                x%s: bf16[%d tokens, %d heads × %d]; sequences of %d tokens.""".formatted(
                direction.name().toLowerCase(), Double.toString(theta), scaling.map(s -> ", " + s.describe()).orElse(""),
                inPlace ? "in place" : "out of place",
                positions == Positions.IN_DOCUMENT ? "in-document" : "in-sequence",
                inPlace ? "" : ", out", tokens, heads, headDim, seq);
        StringBuilder table = new StringBuilder();
        double[] inv = inverseFrequencies();
        for (int i = 0; i < inv.length; i++) {
            table.append(i % 4 == 0 ? "\n    " : " ").append(Double.toString(inv[i])).append(',');
        }
        String body = """
                constexpr int TOKENS = %d;
                %s
                constexpr int HEADS = %d;
                constexpr int HEAD_DIM = %d;
                constexpr int HALF = HEAD_DIM / 2;
                constexpr double DIRECTION = %s;  // backward rotates by the negated angle
                __device__ const double INVERSE_FREQUENCY[HALF] = {%s
                };
                """.formatted(tokens, positions == Positions.IN_SEQUENCE ? "constexpr int SEQ = " + seq + ";" : "// positions come from a buffer", heads, headDim, direction == Direction.FORWARD ? "1.0" : "-1.0", table)
                + KERNEL
                .replace("$NAME", kernelName())
                .replace("$SIGNATURE", CudaKernel.signature(params()))
                .replace("$POSITION", positions == Positions.IN_DOCUMENT ? "positions[token]" : "token % SEQ")
                .replace("$OUT", inPlace ? "x" : "out");
        long threads = (long) tokens * (headDim / 2);
        LaunchGeometry launch = LaunchGeometry.linear((int) ((threads + THREADS - 1) / THREADS), THREADS, 0);
        return new CudaKernel(kernelName(), CudaPrelude.kernelSource(description, body), launch, params());
    }

    // x and out may be the same buffer: each thread reads its two elements of a head before writing them.
    private static final String KERNEL = """
            extern "C" __global__ void __launch_bounds__(%d) $NAME$SIGNATURE {
                const int index = blockIdx.x * blockDim.x + threadIdx.x;
                if (index >= TOKENS * HALF) return;
                const int token = index / HALF, i = index %% HALF;
                const double angle = (double) ($POSITION) * INVERSE_FREQUENCY[i];
                double sin_angle, cos_angle;
                sincos(angle, &sin_angle, &cos_angle);
                const float cos_f = (float) cos_angle, sin_f = (float) (DIRECTION * sin_angle);
                for (int head = 0; head < HEADS; head++) {
                    const int first = token * HEADS * HEAD_DIM + head * HEAD_DIM + i;
                    const float a = bf16_to_f32(x[first]), b = bf16_to_f32(x[first + HALF]);
                    $OUT[first] = f32_to_bf16(a * cos_f - b * sin_f);
                    $OUT[first + HALF] = f32_to_bf16(b * cos_f + a * sin_f);
                }
            }
            """.formatted(THREADS);

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("rope shape: " + message);
        }
    }
}

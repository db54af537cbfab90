package dev.octet.compiler.ir;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.RopeScaling;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import java.util.Locale;
import java.util.Optional;

/**
 * What a node computes, with its compile-time attributes. Shapes are attributes, so a node is a fully
 * specialised operation; the inputs and outputs listed per operator are in {@link Node} order.
 * The CPU oracle of each operator is the op of the same name in the runtime's dev.octet.cpu.ops.
 */
public sealed interface Operator {
    /** The name IR text uses. */
    String mnemonic();

    /** {@code key=value, ...} for IR text; empty when there are none. */
    String attributes();

    /** True when the outputs are added into rather than overwritten. */
    default boolean accumulates() {
        return false;
    }

    // ---- forward -------------------------------------------------------------------------------------

    /** in: tokens i32[T], table bf16[V,D] · out: bf16[T,D]. */
    record EmbeddingLookup(int vocab, int dim) implements Operator {
        public String mnemonic() { return "embedding"; }
        public String attributes() { return "vocab=" + vocab + ", dim=" + dim; }
    }

    /** Learned absolute positions, position = t mod seq. in: table bf16[P,D] · out: bf16[T,D]. */
    record PositionLookup(int seq, int dim) implements Operator {
        public String mnemonic() { return "position_embedding"; }
        public String attributes() { return "seq=" + seq + ", dim=" + dim; }
    }

    /** in: x bf16[T,D], w bf16[D] · out: y bf16[T,D], rstd f32[T]. */
    record RmsNorm(int dim, double eps) implements Operator {
        public String mnemonic() { return "rmsnorm"; }
        public String attributes() { return "dim=" + dim + ", eps=" + eps; }
    }

    /** in: x, w, b · out: y bf16[T,D], mean f32[T], rstd f32[T]. */
    record LayerNorm(int dim, double eps) implements Operator {
        public String mnemonic() { return "layernorm"; }
        public String attributes() { return "dim=" + dim + ", eps=" + eps; }
    }

    /**
     * One GEMM of a linear layer in canonical form C[M,N] = A[M,K]·B[N,K]ᵀ; {@code transposeA} means the
     * input holds A as [K,M] (likewise B). in (BF16): a, b, [bias f32[N]], [residual bf16[M,N]];
     * in (FP8, after quantization insertion; operands K-major): a codes, a scales, b codes, b scales, [bias],
     * [residual] · out: c (bf16, or f32 accumulated for weight gradients).
     */
    record MatMul(String linear, Gemm gemm, int m, int n, int k, boolean transposeA, boolean transposeB,
                  Optional<Fp8Operands> fp8, boolean bias, boolean residual, boolean accumulate) implements Operator {
        public String mnemonic() { return fp8.isPresent() ? "matmul_fp8" : "matmul_bf16"; }

        public String attributes() {
            StringBuilder sb = new StringBuilder(gemm.lowerName() + " " + linear + ", m=" + m + ", n=" + n + ", k=" + k);
            if (transposeA) sb.append(", a=transposed");
            if (transposeB) sb.append(", b=transposed");
            fp8.ifPresent(q -> sb.append(", a=").append(q.a().describe()).append(q.aTransposed() ? " transposed" : "")
                    .append(", b=").append(q.b().describe()).append(q.bTransposed() ? " transposed" : ""));
            if (bias) sb.append(", bias");
            if (residual) sb.append(", residual");
            return sb.toString();
        }

        @Override
        public boolean accumulates() {
            return accumulate;
        }

        public MatMul asFp8(Fp8Operands operands) {
            return new MatMul(linear, gemm, m, n, k, false, false, Optional.of(operands), bias, residual, accumulate);
        }

        public MatMul withResidual() {
            return new MatMul(linear, gemm, m, n, k, transposeA, transposeB, fp8, bias, true, accumulate);
        }
    }

    /**
     * How the two operands of an FP8 GEMM were quantized, and whether each was quantized with a fused transpose,
     * which decides how its scales lie ({@link dev.octet.numerics.ScaleGrid#ofOperand}).
     */
    record Fp8Operands(OperandQuant a, OperandQuant b, boolean aTransposed, boolean bTransposed) {}

    /** Rotary position embedding over the heads of q or k (backward: rotation by the negative angle). */
    record Rope(int seq, int heads, int headDim, double theta, Optional<RopeScaling> scaling, boolean backward)
            implements Operator {
        public String mnemonic() { return backward ? "rope_backward" : "rope"; }
        public String attributes() {
            return "seq=" + seq + ", heads=" + heads + ", head_dim=" + headDim + ", theta=" + theta
                    + scaling.map(s -> ", scaling=" + s.describe()).orElse("");
        }

        /** The rotary inverse frequencies, scaled where the model says. */
        public double[] inverseFrequencies() {
            return ModelConfig.ropeInverseFrequencies(theta, headDim, scaling);
        }
    }

    /** Causal grouped-query attention. in: q, k, v, [doc ids i32[T]] · out: o bf16[T,H·hd], lse f32[B,H,S]. */
    record Attention(int batch, int seq, int heads, int kvHeads, int headDim, boolean documentMask) implements Operator {
        public String mnemonic() { return "attention"; }
        public String attributes() { return attentionAttributes(batch, seq, heads, kvHeads, headDim, documentMask); }
    }

    /**
     * One decoding step of causal grouped-query attention, one new token per sequence: row s's k and v are
     * written at {@code positions[s]} of sequence s's cache, then its q attends to cache positions
     * {@code 0..positions[s]}. in: q bf16[S,H·hd], k, v bf16[S,KV·hd], positions i32[S], k cache, v cache
     * bf16[S,maxSeq,KV·hd] · out: o bf16[S,H·hd], the two caches (updated in place).
     */
    record CachedAttention(int sequences, int maxSeq, int heads, int kvHeads, int headDim) implements Operator {
        public String mnemonic() { return "cached_attention"; }
        public String attributes() {
            return "sequences=" + sequences + ", max_seq=" + maxSeq + ", heads=" + heads + ", kv_heads=" + kvHeads
                    + ", head_dim=" + headDim;
        }
    }

    /** in: q, k, v, o, lse, do, [doc ids] · out: dq, dk, dv. */
    record AttentionBackward(int batch, int seq, int heads, int kvHeads, int headDim, boolean documentMask) implements Operator {
        public String mnemonic() { return "attention_backward"; }
        public String attributes() { return attentionAttributes(batch, seq, heads, kvHeads, headDim, documentMask); }
    }

    /** in: gate, up bf16[T,F] · out: h = silu(gate)·up. */
    record SwiGlu(int width) implements Operator {
        public String mnemonic() { return "swiglu"; }
        public String attributes() { return "width=" + width; }
    }

    /** in: u bf16[T,F] · out: gelu_tanh(u). */
    record Gelu(int width) implements Operator {
        public String mnemonic() { return "gelu"; }
        public String attributes() { return "width=" + width; }
    }

    /** Elementwise a + b (the residual stream, or two gradient contributions), one rounding to the output type. */
    record Add(long elements) implements Operator {
        public String mnemonic() { return "add"; }
        public String attributes() { return ""; }
    }

    /**
     * in: logits bf16[T,V], targets i32[T] (a target below 0 is not counted: the loss mask), loss weight f32[1]
     * (1 / counted tokens of the whole step) · out: per-token weighted loss f32[T], lse f32[T].
     */
    record CrossEntropy(int vocab) implements Operator {
        public String mnemonic() { return "cross_entropy"; }
        public String attributes() { return "vocab=" + vocab; }
    }

    /**
     * The LM head, softmax cross-entropy and their backward over {@code chunk} tokens at a time, so that only
     * one chunk's logits [chunk, V] exist at once: per chunk, logits = x·Wᵀ (+ bias) rounded to BF16, per-token
     * loss and dlogits = weight·(softmax − onehot(target)) rounded to BF16 (what {@link CrossEntropy} and
     * {@link CrossEntropyBackward} compute), then dx = dlogits·W rounded to BF16 and W's gradient += dlogitsᵀ·x
     * (+ bias gradient += column sums of dlogits). Every row is computed as without chunking; only the sum over
     * tokens of the weight (and bias) gradient is split, one partial sum per chunk added in chunk order.
     * The last chunk holds the rest when {@code chunk} does not divide {@code tokens}.
     * in: x bf16[T,D], w bf16[V,D], [bias bf16[V]], targets i32[T], loss weight f32[1] ·
     * out: per-token weighted loss f32[T], dx bf16[T,D], w gradient f32[V,D] (+=), [bias gradient f32[V] (+=)].
     */
    record LmHeadCrossEntropy(String linear, int tokens, int vocab, int dim, int chunk, boolean bias) implements Operator {
        public LmHeadCrossEntropy {
            if (tokens <= 0 || vocab <= 0 || dim <= 0 || chunk <= 0 || chunk > tokens) {
                throw new IllegalArgumentException("an LM head loss needs positive sizes and 0 < chunk <= tokens: tokens="
                        + tokens + " vocab=" + vocab + " dim=" + dim + " chunk=" + chunk);
            }
        }

        public String mnemonic() { return "lm_head_cross_entropy"; }

        public String attributes() {
            return linear + ", tokens=" + tokens + ", vocab=" + vocab + ", dim=" + dim + ", chunk=" + chunk
                    + (bias ? ", bias" : "");
        }

        /** How many chunks: the last one may be shorter. */
        public int chunks() {
            return (tokens + chunk - 1) / chunk;
        }

        /** Tokens of chunk {@code i}. */
        public int rows(int i) {
            return Math.min(chunk, tokens - i * chunk);
        }

        /** Elements from one row of a chunk's logits to the next in the workspace: {@link #logitsPitch(int, int)}. */
        public int logitsPitch() {
            return logitsPitch(vocab, dim);
        }

        /**
         * The vocabulary rounded up to 8: rows that start on 16 bytes, which the head's dgrad and wgrad GEMMs need to
         * read the logits by TMA (GPT-2's 50,257 ids would put both on the mma.sync template, at a sixth of the
         * speed); or the vocabulary itself when the model width is not a multiple of 8 either and they take mma.sync.
         */
        public static int logitsPitch(int vocab, int dim) {
            return dim % 8 == 0 ? Math.ceilDiv(vocab, 8) * 8 : vocab;
        }
    }

    /** in: per-token losses f32[T] · out: loss f32[1] (+=, over the micro-batches of a step). */
    record LossSum(int tokens) implements Operator {
        public String mnemonic() { return "loss_sum"; }
        public String attributes() { return ""; }
        @Override public boolean accumulates() { return true; }
    }

    // ---- backward ------------------------------------------------------------------------------------

    /** in: tokens, dy bf16[T,D] · out: table gradient f32[V,D] (+=). */
    record EmbeddingBackward(int vocab, int dim) implements Operator {
        public String mnemonic() { return "embedding_backward"; }
        public String attributes() { return "vocab=" + vocab + ", dim=" + dim; }
        @Override public boolean accumulates() { return true; }
    }

    /** in: dy bf16[T,D] · out: position table gradient f32[P,D] (+=). */
    record PositionBackward(int seq, int dim) implements Operator {
        public String mnemonic() { return "position_embedding_backward"; }
        public String attributes() { return "seq=" + seq + ", dim=" + dim; }
        @Override public boolean accumulates() { return true; }
    }

    /** in: x, w, rstd, dy · out: dx bf16[T,D]; dw f32[D] (+=). */
    record RmsNormBackward(int dim, double eps) implements Operator {
        public String mnemonic() { return "rmsnorm_backward"; }
        public String attributes() { return "dim=" + dim; }
    }

    /** in: x, w, mean, rstd, dy · out: dx; dw, db (+=). */
    record LayerNormBackward(int dim, double eps) implements Operator {
        public String mnemonic() { return "layernorm_backward"; }
        public String attributes() { return "dim=" + dim; }
    }

    /** in: gate, up, dh · out: dgate, dup. */
    record SwiGluBackward(int width) implements Operator {
        public String mnemonic() { return "swiglu_backward"; }
        public String attributes() { return "width=" + width; }
    }

    /** in: u, dh · out: du. */
    record GeluBackward(int width) implements Operator {
        public String mnemonic() { return "gelu_backward"; }
        public String attributes() { return "width=" + width; }
    }

    /** in: logits, targets, lse, loss weight · out: dlogits bf16[T,V] = weight·(softmax − onehot), 0 where not counted. */
    record CrossEntropyBackward(int vocab) implements Operator {
        public String mnemonic() { return "cross_entropy_backward"; }
        public String attributes() { return "vocab=" + vocab; }
    }

    /** in: dy bf16[T,N] · out: bias gradient f32[N] (+= column sums). */
    record BiasGradient(int tokens, int width) implements Operator {
        public String mnemonic() { return "bias_gradient"; }
        public String attributes() { return "width=" + width; }
        @Override public boolean accumulates() { return true; }
    }

    // ---- quantization --------------------------------------------------------------------------------

    /**
     * Just-in-time FP8 quantization of a [rows, cols] output matrix, K-major, grouped along its rows;
     * {@code transpose} means the input holds the transposed [cols, rows] matrix (a fused cast+transpose).
     * in: x (bf16), or the inputs {@code source} recomputes x from; [amax history f32[H] for delayed scaling] ·
     * out: codes, scales f32 (ScaleGrid layout), [the history, updated in place].
     */
    record Quantize(int rows, int cols, boolean transpose, Granularity granularity, Fp8Format format,
                    ScaleType scaleType, Scaling scaling, QuantizedSource source) implements Operator {
        /** Quantizes its first input as stored. */
        public Quantize(int rows, int cols, boolean transpose, Granularity granularity, Fp8Format format,
                        ScaleType scaleType, Scaling scaling) {
            this(rows, cols, transpose, granularity, format, scaleType, scaling, QuantizedSource.STORED);
        }

        public Quantize {
            java.util.Objects.requireNonNull(source, "source");
        }

        public String mnemonic() { return transpose ? "quantize_transpose" : "quantize"; }

        public String attributes() {
            return granularity.describe() + " " + format.lowerName() + ", " + scaleType.lowerName() + " "
                    + scaling.describe() + ", rows=" + rows + ", cols=" + cols
                    + (source == QuantizedSource.STORED ? "" : ", of=" + source.lowerName());
        }

        /** The same quantization of the tensor recomputed from {@code from}'s inputs. */
        public Quantize recomputing(QuantizedSource from) {
            return new Quantize(rows, cols, transpose, granularity, format, scaleType, scaling, from);
        }
    }

    // ---- optimizer -----------------------------------------------------------------------------------

    /**
     * in: every parameter gradient, then the step's loss f32[1] · out: grad_norm f32[1] (global L2 norm) and the
     * step scalars, whose clip slot receives min(1, max_norm / norm) (1 when the norm is 0 or not finite) and whose
     * skip slot receives 1 when the norm or the loss is not finite (every AdamW update of the step then changes
     * nothing), else 0: the device decides a skip, so the host waits once a step, at its end.
     */
    record GradientNorm(double maxNorm, int tensors) implements Operator {
        public String mnemonic() { return "gradient_norm"; }
        public String attributes() { return "max_norm=" + maxNorm + ", tensors=" + tensors; }
    }

    /**
     * Decoupled-weight-decay Adam on one parameter. in: param, grad, m, v, step scalars ·
     * out (in place): param, m, v, grad (zeroed for the next step's accumulation), and the BF16 working copy where
     * the parameter keeps one.
     */
    record AdamWUpdate(String parameter, long elements, double beta1, double beta2, double eps, double weightDecay,
                       boolean decays) implements Operator {
        public String mnemonic() { return "adamw"; }

        public String attributes() {
            return String.format(Locale.ROOT, "beta1=%s, beta2=%s, eps=%s, weight_decay=%s", beta1, beta2, eps,
                    decays ? weightDecay : 0.0);
        }
    }

    private static String attentionAttributes(int batch, int seq, int heads, int kvHeads, int headDim, boolean docs) {
        return "batch=" + batch + ", seq=" + seq + ", heads=" + heads + ", kv_heads=" + kvHeads + ", head_dim=" + headDim
                + (docs ? ", documents" : "");
    }
}

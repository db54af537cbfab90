package dev.octet.compiler.ir;

import dev.octet.dsl.spec.Recompute;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a {@link Operator.Quantize} reads: the tensor itself, or the inputs of the forward operator that produced
 * it, from which the quantization recomputes the tensor exactly as that operator rounded it — in forward, where an
 * activation's kernel writes both its operands without storing it, or in backward, from tensors backward keeps
 * anyway (SwiGLU's gate and up, a norm's input and statistics), so the activation need not outlive the forward
 * pass ({@code passes/QuantizeFromInputs}); or, for a weight, its FP32 master, rounded to BF16 as AdamW rounds the
 * working copy, so the working copy need not exist ({@code passes/WeightsFromMasters}).
 */
public enum QuantizedSource {
    /** in: x, the tensor quantized. */
    STORED(List.of("x")),
    /** in: gate, up [T, F]; x = silu(gate)·up rounded to BF16. */
    SWIGLU(List.of("gate", "up")),
    /** in: u [T, F]; x = gelu_tanh(u) rounded to BF16. */
    GELU(List.of("u")),
    /** in: x [T, D], weight [D], rstd f32[T]; the norm's output x·rstd·w rounded to BF16. */
    RMS_NORM(List.of("x", "weight", "rstd")),
    /** in: x [T, D], weight, bias [D], mean, rstd f32[T]; the norm's output (x − mean)·rstd·w + b rounded to BF16. */
    LAYER_NORM(List.of("x", "weight", "bias", "mean", "rstd")),
    /** in: master f32 [rows, cols], a weight's FP32 master; x = the master rounded to BF16 (its working copy). */
    MASTER(List.of("master")),
    /** in: gate, up, dh [T, F]; x = SwiGLU backward's dgate = dh·up·σ(g)(1 + g(1 − σ(g))) rounded to BF16. */
    SWIGLU_GATE_GRADIENT(List.of("gate", "up", "dh")),
    /** in: gate, up, dh [T, F]; x = SwiGLU backward's dup = dh·silu(g) rounded to BF16. */
    SWIGLU_UP_GRADIENT(List.of("gate", "up", "dh"));

    /** How an input of a recomputation is indexed, the quantized tensor being [tokens, width]. */
    public enum Kind {
        /** [tokens, width], element by element: BF16, or FP32 for a master. */
        ELEMENT,
        /** F32 [tokens]: a norm's per-token statistic. */
        ROW,
        /** BF16 [width]: a norm's weight or bias. */
        COLUMN
    }

    private final List<String> inputs;

    QuantizedSource(List<String> inputs) {
        this.inputs = inputs;
    }

    /** The names of the inputs, in the order a Quantize node lists them (before an amax history). */
    public List<String> inputs() {
        return inputs;
    }

    /** How input {@code i} is indexed. */
    public Kind kind(int i) {
        return switch (inputs.get(i)) {
            case "weight", "bias" -> Kind.COLUMN;
            case "mean", "rstd" -> Kind.ROW;
            default -> Kind.ELEMENT;
        };
    }

    /** The element type of input {@code i}: FP32 for a norm's statistics and a master, BF16 otherwise. */
    public DType inputType(int i) {
        return kind(i) == Kind.ROW || this == MASTER ? DType.F32 : DType.BF16;
    }

    /** The source a quantization of {@code op}'s first output can read instead of it: SwiGLU, GELU and the norms. */
    public static Optional<QuantizedSource> producedBy(Operator op) {
        return switch (op) {
            case Operator.SwiGlu s -> Optional.of(SWIGLU);
            case Operator.Gelu ge -> Optional.of(GELU);
            case Operator.RmsNorm n -> Optional.of(RMS_NORM);
            case Operator.LayerNorm n -> Optional.of(LAYER_NORM);
            default -> Optional.empty();
        };
    }

    /**
     * The source a quantization of output {@code output} of the backward operator {@code op} can read instead of it:
     * SwiGLU backward's dgate and dup.
     */
    public static Optional<QuantizedSource> gradientOf(Operator op, int output) {
        return op instanceof Operator.SwiGluBackward
                ? Optional.of(output == 0 ? SWIGLU_GATE_GRADIENT : SWIGLU_UP_GRADIENT) : Optional.empty();
    }

    /**
     * The other output of the operator this source recomputes, from the same inputs (SwiGLU backward's dup for its
     * dgate, and back): one kernel can quantize both from one read of those inputs.
     */
    public Optional<QuantizedSource> sibling() {
        return switch (this) {
            case SWIGLU_GATE_GRADIENT -> Optional.of(SWIGLU_UP_GRADIENT);
            case SWIGLU_UP_GRADIENT -> Optional.of(SWIGLU_GATE_GRADIENT);
            default -> Optional.empty();
        };
    }

    /** Whether this source recomputes an activation (a norm's or an activation function's output) from its forward's inputs. */
    public boolean isActivation() {
        return this == SWIGLU || this == GELU || this == RMS_NORM || this == LAYER_NORM;
    }

    /** The recipe's {@code recompute} entry that covers the tensor this source recomputes. */
    public Recompute recomputedUnder() {
        return switch (this) {
            case SWIGLU, GELU -> Recompute.ACTIVATION;
            case RMS_NORM, LAYER_NORM -> Recompute.NORM;
            case STORED -> throw new IllegalStateException("a stored tensor is not recomputed");
            case MASTER -> throw new IllegalStateException("a weight's working copy is not the recipe's to recompute");
            case SWIGLU_GATE_GRADIENT, SWIGLU_UP_GRADIENT -> throw new IllegalStateException("a gradient is not the recipe's to recompute");
        };
    }

    public String lowerName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

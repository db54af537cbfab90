package dev.octet.compiler.cuda.gemm;

import dev.octet.compiler.ir.DType;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The GEMMs of the example models' linear layers, per role and recipe, as the compiler will ask for them. */
final class ExampleModelGemms {
    private ExampleModelGemms() {}

    /** A linear layer {@code Y[T,out] = X[T,in]·W[out,in]ᵀ}. */
    record Linear(String name, int tokens, int in, int out) {}

    record Model(String name, int tokens, int dim, int q, int kv, int ffn, int vocab) {
        List<Linear> fp8Linears() {
            return List.of(new Linear(name + ".q", tokens, dim, q), new Linear(name + ".kv", tokens, dim, kv),
                    new Linear(name + ".o", tokens, q, dim), new Linear(name + ".up", tokens, dim, ffn),
                    new Linear(name + ".down", tokens, ffn, dim));
        }

        /** The LM head stays in BF16 in every recipe. */
        Linear head() {
            return new Linear(name + ".head", tokens, dim, vocab);
        }
    }

    static final Model TINY = new Model("tiny", 512, 128, 256, 128, 384, 4096);
    static final Model GPT2 = new Model("gpt2", 1024, 768, 768, 768, 3072, 50257);
    static final Model QWEN = new Model("qwen2_5_1_5b", 4096, 1536, 1536, 256, 8960, 151936);
    static final List<Model> MODELS = List.of(TINY, GPT2, QWEN);
    /** Qwen2.5's LM head over the loss's chunks at 2 × 8192 tokens: 2 of 5,504 tokens and a last one of 5,376. */
    static final List<Linear> QWEN_HEAD_CHUNKS = List.of(new Linear("qwen2_5_1_5b.head_chunk", 5504, 1536, 151936),
            new Linear("qwen2_5_1_5b.head_last_chunk", 5376, 1536, 151936));

    /** How each GEMM operand of a recipe is quantized: X and dY along the reduction axis, W as a whole. */
    record Fp8Recipe(String name, Fp8Format activation, Fp8Format gradient, Granularity activationScales,
                     Granularity weightScales, Granularity gradientScales) {}

    static final Fp8Recipe INFIR2 = new Fp8Recipe("infir2", Fp8Format.E4M3, Fp8Format.E4M3,
            Granularity.group(128), Granularity.block(128), Granularity.group(128));
    static final Fp8Recipe TENSORWISE_HYBRID = new Fp8Recipe("tensorwise_hybrid", Fp8Format.E4M3, Fp8Format.E5M2,
            Granularity.tensor(), Granularity.tensor(), Granularity.tensor());
    static final Fp8Recipe ROWWISE = new Fp8Recipe("rowwise", Fp8Format.E4M3, Fp8Format.E4M3,
            Granularity.token(), Granularity.channel(), Granularity.token());

    /** fprop, dgrad and wgrad of one FP8 linear layer. */
    static List<GemmProblem> fp8Roles(Linear l, Fp8Recipe r) {
        GemmEpilogue bf16 = GemmEpilogue.store(DType.BF16);
        return List.of(
                // fprop: Y[T,out] = X[T,in] · W[out,in]ᵀ
                GemmProblem.fp8(l.tokens(), l.out(), l.in(), r.activation(), r.activationScales(),
                        r.activation(), r.weightScales(), bf16),
                // dgrad: dX[T,in] = dY[T,out] · (Wᵀ[in,out])ᵀ
                GemmProblem.fp8(l.tokens(), l.in(), l.out(), r.gradient(), r.gradientScales(),
                        r.activation(), r.weightScales(), bf16),
                // wgrad: dW[out,in] += dYᵀ[out,T] · (Xᵀ[in,T])ᵀ, both grouped along T by fused transposes
                GemmProblem.fp8(l.out(), l.in(), l.tokens(), new GemmOperand.Fp8(r.gradient(), r.gradientScales(), true),
                        new GemmOperand.Fp8(r.activation(), r.activationScales(), true), GemmEpilogue.accumulateF32()));
    }

    /** fprop, dgrad and wgrad of one BF16 linear layer, reading W, dY and X where they lie. */
    static List<GemmProblem> bf16Roles(Linear l) {
        GemmEpilogue bf16 = GemmEpilogue.store(DType.BF16);
        return List.of(
                GemmProblem.bf16(l.tokens(), l.out(), l.in(), OperandLayout.K_MAJOR, OperandLayout.K_MAJOR, bf16),
                // dgrad: B = W[out,in] read as [K=out, N=in]
                GemmProblem.bf16(l.tokens(), l.in(), l.out(), OperandLayout.K_MAJOR, OperandLayout.MN_MAJOR, bf16),
                // wgrad: A = dY[T,out] read as [K=T, M=out], B = X[T,in] read as [K=T, N=in]
                GemmProblem.bf16(l.out(), l.in(), l.tokens(), OperandLayout.MN_MAJOR, OperandLayout.MN_MAJOR,
                        GemmEpilogue.accumulateF32()));
    }

    /**
     * Every distinct kernel the example models need: all FP8 layers of every model under the InfiR2 recipe,
     * GPT-2's under the tensor-wise/E5M2 and row-wise recipes, every model's LM head in BF16 (Qwen's also over the
     * loss's chunks of tokens), and GPT-2's
     * layers in BF16 (first/last layers kept in BF16), plus the fused epilogues (bias, residual).
     */
    static List<GemmProblem> all() {
        Map<String, GemmProblem> byKernel = new LinkedHashMap<>();
        List<GemmProblem> problems = new ArrayList<>();
        for (Model m : MODELS) {
            for (Linear l : m.fp8Linears()) {
                problems.addAll(fp8Roles(l, INFIR2));
            }
            problems.addAll(bf16Roles(m.head()));
        }
        for (Linear chunk : QWEN_HEAD_CHUNKS) {
            problems.addAll(bf16Roles(chunk));
        }
        for (Linear l : GPT2.fp8Linears()) {
            problems.addAll(fp8Roles(l, TENSORWISE_HYBRID));
            problems.addAll(fp8Roles(l, ROWWISE));
            problems.addAll(bf16Roles(l));
        }
        Linear qkv = GPT2.fp8Linears().getFirst();
        GemmEpilogue fused = GemmEpilogue.store(DType.BF16).withBias().withResidual();
        problems.add(fp8Roles(qkv, INFIR2).getFirst().withEpilogue(fused));
        problems.add(bf16Roles(qkv).getFirst().withEpilogue(fused));
        problems.add(fp8Roles(qkv, INFIR2).getFirst().withEpilogue(GemmEpilogue.accumulateF32().withBias()));
        for (GemmProblem p : problems) {
            byKernel.putIfAbsent(GemmKernels.forProblem(p).kernelName(), p);
        }
        return List.copyOf(byKernel.values());
    }
}

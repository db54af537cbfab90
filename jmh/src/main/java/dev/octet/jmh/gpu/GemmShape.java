package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.gemm.OperandLayout;
import dev.octet.numerics.Granularity;

import java.util.Locale;

/**
 * The GEMMs benchmarked, in canonical form {@code C[M,N] = A[M,K]·B[N,K]ᵀ} (see GemmProblem). A linear layer
 * {@code Y[T,out] = X[T,in]·W[out,in]ᵀ} gives three: fprop (M=T, N=out, K=in), dgrad (M=T, N=in, K=out) and
 * wgrad (M=out, N=in, K=T). T = 8192 tokens (batch 8 × 1024, or 2 × 4096). The MLP up projection of GPT-2 124M
 * (768 → 3072) and of a Qwen2.5-1.5B-like model (1536 → 8960) cover both MLP layers: the down projection's
 * fprop is the up projection's dgrad shape. Two squares compare with published GEMM figures.
 * Names are lower-case in JMH parameters: {@code gpt2_fc_fprop}.
 */
public enum GemmShape {
    GPT2_FC_FPROP(Role.FPROP, Shapes.TOKENS, 3072, 768),
    GPT2_FC_DGRAD(Role.DGRAD, Shapes.TOKENS, 768, 3072),
    GPT2_FC_WGRAD(Role.WGRAD, 3072, 768, Shapes.TOKENS),
    QWEN_UP_FPROP(Role.FPROP, Shapes.TOKENS, 8960, 1536),
    QWEN_UP_DGRAD(Role.DGRAD, Shapes.TOKENS, 1536, 8960),
    QWEN_UP_WGRAD(Role.WGRAD, 8960, 1536, Shapes.TOKENS),
    // Qwen2.5-1.5B (dim 1536, ffn 8960) and Llama-3.2-1B (dim 2048, ffn 8192) at 2 x 8192 tokens.
    QWEN_O_FPROP_16K(Role.FPROP, Shapes.TOKENS_16K, 1536, 1536),
    QWEN_UP_FPROP_16K(Role.FPROP, Shapes.TOKENS_16K, 8960, 1536),
    QWEN_UP_DGRAD_16K(Role.DGRAD, Shapes.TOKENS_16K, 1536, 8960),
    QWEN_UP_WGRAD_16K(Role.WGRAD, 8960, 1536, Shapes.TOKENS_16K),
    LLAMA_UP_FPROP_16K(Role.FPROP, Shapes.TOKENS_16K, 8192, 2048),
    LLAMA_UP_DGRAD_16K(Role.DGRAD, Shapes.TOKENS_16K, 2048, 8192),
    LLAMA_UP_WGRAD_16K(Role.WGRAD, 8192, 2048, Shapes.TOKENS_16K),
    // Weight gradients with few tiles over a long K: Qwen2.5's k (or v) and o projections at 2 x 8192 tokens,
    // GPT-2's attention projections at 32 x 1024.
    QWEN_KV_WGRAD_16K(Role.WGRAD, 256, 1536, Shapes.TOKENS_16K),
    QWEN_O_WGRAD_16K(Role.WGRAD, 1536, 1536, Shapes.TOKENS_16K),
    GPT2_ATTN_WGRAD_32K(Role.WGRAD, 768, 768, 32768),
    // Qwen2.5-1.5B's LM head (vocabulary 151,936, BF16 in every recipe) on one loss chunk of 5,504 tokens, the
    // chunk the step runs with its default 2 GiB loss workspace (LmHeadLossChunking).
    QWEN_LM_HEAD_FPROP(Role.FPROP, Shapes.LM_HEAD_CHUNK, 151936, 1536),
    QWEN_LM_HEAD_DGRAD(Role.DGRAD, Shapes.LM_HEAD_CHUNK, 1536, 151936),
    QWEN_LM_HEAD_WGRAD(Role.WGRAD, 151936, 1536, Shapes.LM_HEAD_CHUNK),
    SQUARE_4096(Role.FPROP, 4096, 4096, 4096),
    SQUARE_8192(Role.FPROP, 8192, 8192, 8192);

    /**
     * Which GEMM of a linear layer: it fixes the BF16 operand layouts (the backward GEMMs read W, dY and X
     * where they are) and the FP8 scale granularities of the infir2 recipe (weights in 128×128 blocks, the
     * other operand in 1×128 groups along K; wgrad groups both operands along the token axis).
     */
    public enum Role {
        FPROP(OperandLayout.K_MAJOR, OperandLayout.K_MAJOR, Granularity.group(128), Granularity.block(128)),
        DGRAD(OperandLayout.K_MAJOR, OperandLayout.MN_MAJOR, Granularity.group(128), Granularity.block(128)),
        WGRAD(OperandLayout.MN_MAJOR, OperandLayout.MN_MAJOR, Granularity.group(128), Granularity.group(128));

        public final OperandLayout bf16A;
        public final OperandLayout bf16B;
        public final Granularity infir2A;
        public final Granularity infir2B;

        Role(OperandLayout bf16A, OperandLayout bf16B, Granularity infir2A, Granularity infir2B) {
            this.bf16A = bf16A;
            this.bf16B = bf16B;
            this.infir2A = infir2A;
            this.infir2B = infir2B;
        }
    }

    public final Role role;
    public final int m;
    public final int n;
    public final int k;

    GemmShape(Role role, int m, int n, int k) {
        this.role = role;
        this.m = m;
        this.n = n;
        this.k = k;
    }

    /** The shape a JMH parameter names, e.g. {@code qwen_up_wgrad}. */
    public static GemmShape named(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    public double flops() {
        return 2.0 * m * n * k;
    }

    /** Shape constants shared with scripts/torch-baseline.py. */
    static final class Shapes {
        static final int TOKENS = 8192;
        static final int LM_HEAD_CHUNK = 5504;  // Qwen2.5-1.5B's loss chunk at 2 × 8192 tokens, default workspace
        static final int TOKENS_16K = 16384;

        private Shapes() {}
    }
}

package dev.octet.testing;

/**
 * The two small model families the runtime tests train, written once: a Llama-style block (RMSNorm, RoPE,
 * grouped-query attention, SwiGLU, tied head) and a GPT-2-style block (learned positions, LayerNorm, GELU
 * MLP, biases everywhere but the tied-free head). Each test picks the sizes it needs.
 */
public final class ModelSources {
    private ModelSources() {}

    public static String llamaLike(int vocab, int dim, int ffn, int heads, int kvHeads, int headDim, int maxSeq) {
        return """
                model llama_like {
                  vocab = %d  dim = %d  ffn = %d  heads = %d  kv_heads = %d  head_dim = %d  layers = 2  max_seq = %d
                  tie_embeddings = true
                  forward {
                    x = embedding(tokens)
                    repeat layers {
                      x = x + attention(rmsnorm(x), rope = true)
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                  }
                }
                """.formatted(vocab, dim, ffn, heads, kvHeads, headDim, maxSeq);
    }

    public static String gpt2Like(int vocab, int dim, int ffn, int heads, int maxSeq) {
        return """
                model gpt2_like {
                  vocab = %d  dim = %d  ffn = %d  heads = %d  layers = 2  max_seq = %d
                  bias = [q, k, v, o, up, down, lm_head]
                  forward {
                    x = embedding(tokens) + position_embedding(tokens)
                    repeat layers {
                      x = x + attention(layernorm(x))
                      x = x + gelu_mlp(layernorm(x))
                    }
                    logits = lm_head(layernorm(x))
                    loss = cross_entropy(logits, targets)
                  }
                }
                """.formatted(vocab, dim, ffn, heads, maxSeq);
    }

    /** The bf16 baseline and the InfiR2 recipe, as test sources name them. */
    public static final String RECIPES = """
            recipe bf16 { bf16 = all }
            recipe infir2 {
              format = e4m3  scale = ue8m0  scaling = current
              weights = block(128)  activations = group(128)  gradients = group(128)
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            """;
}

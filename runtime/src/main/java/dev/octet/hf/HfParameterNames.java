package dev.octet.hf;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Octet's parameter names and the Hugging Face names of the same tensors in Qwen2 and Llama checkpoints.
 * Shapes and layouts agree ([out, in] matrices, q and k head-major), so a tensor moves unchanged.
 */
public final class HfParameterNames {
    private static final Pattern LAYER = Pattern.compile("layers\\.(\\d+)\\.(.+)");
    private static final Map<String, String> TOP = Map.of(
            "embedding.weight", "model.embed_tokens.weight",
            "rmsnorm.weight", "model.norm.weight",
            "lm_head.weight", "lm_head.weight");
    // The standard block: x + attention(rmsnorm(x)), then x + swiglu(rmsnorm_1(x)).
    private static final Map<String, String> BLOCK = Map.ofEntries(
            Map.entry("rmsnorm.weight", "input_layernorm.weight"),
            Map.entry("rmsnorm_1.weight", "post_attention_layernorm.weight"),
            Map.entry("attention.q.weight", "self_attn.q_proj.weight"),
            Map.entry("attention.k.weight", "self_attn.k_proj.weight"),
            Map.entry("attention.v.weight", "self_attn.v_proj.weight"),
            Map.entry("attention.o.weight", "self_attn.o_proj.weight"),
            Map.entry("attention.q.bias", "self_attn.q_proj.bias"),
            Map.entry("attention.k.bias", "self_attn.k_proj.bias"),
            Map.entry("attention.v.bias", "self_attn.v_proj.bias"),
            Map.entry("attention.o.bias", "self_attn.o_proj.bias"),
            Map.entry("swiglu.gate.weight", "mlp.gate_proj.weight"),
            Map.entry("swiglu.up.weight", "mlp.up_proj.weight"),
            Map.entry("swiglu.down.weight", "mlp.down_proj.weight"));

    private HfParameterNames() {}

    /** The Hugging Face name of an Octet parameter of the standard graph, e.g. {@code model.layers.3.mlp.up_proj.weight}. */
    public static Optional<String> toHf(String octetName) {
        Matcher m = LAYER.matcher(octetName);
        if (m.matches()) {
            return Optional.ofNullable(BLOCK.get(m.group(2))).map(hf -> "model.layers." + m.group(1) + "." + hf);
        }
        return Optional.ofNullable(TOP.get(octetName));
    }
}

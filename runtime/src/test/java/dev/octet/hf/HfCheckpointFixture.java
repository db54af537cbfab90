package dev.octet.hf;

import dev.octet.checkpoint.DType;
import dev.octet.checkpoint.SafetensorsWriter;
import dev.octet.checkpoint.Tensor;
import dev.octet.numerics.Bf16;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SplittableRandom;

/**
 * A tiny Hugging Face checkpoint directory written by hand (config.json and safetensors with Hugging Face names),
 * with random weights: the input of the import tests, and the weights of their reference forward pass.
 */
record HfCheckpointFixture(boolean qwen2, boolean tied, int vocab, int dim, int ffn, int heads, int kvHeads, int headDim,
                           int layers, int maxSeq, double eps, double theta, Map<String, float[]> weights) {
    static HfCheckpointFixture qwen2(long seed) {
        return create(true, false, 1e-6, 1_000_000, seed);
    }

    static HfCheckpointFixture llamaTied(long seed) {
        return create(false, true, 1e-5, 500_000, seed);
    }

    private static HfCheckpointFixture create(boolean qwen2, boolean tied, double eps, double theta, long seed) {
        int vocab = 128, dim = 64, ffn = 128, heads = 4, kvHeads = 2, headDim = 16, layers = 2;
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", random(r, vocab * dim, 0, 0.5));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", random(r, dim, 1, 0.2));
            w.put(p + "self_attn.q_proj.weight", random(r, heads * headDim * dim, 0, 0.15));
            w.put(p + "self_attn.k_proj.weight", random(r, kvHeads * headDim * dim, 0, 0.15));
            w.put(p + "self_attn.v_proj.weight", random(r, kvHeads * headDim * dim, 0, 0.15));
            if (qwen2) {
                w.put(p + "self_attn.q_proj.bias", random(r, heads * headDim, 0, 0.2));
                w.put(p + "self_attn.k_proj.bias", random(r, kvHeads * headDim, 0, 0.2));
                w.put(p + "self_attn.v_proj.bias", random(r, kvHeads * headDim, 0, 0.2));
            }
            w.put(p + "self_attn.o_proj.weight", random(r, dim * heads * headDim, 0, 0.15));
            w.put(p + "post_attention_layernorm.weight", random(r, dim, 1, 0.2));
            w.put(p + "mlp.gate_proj.weight", random(r, ffn * dim, 0, 0.15));
            w.put(p + "mlp.up_proj.weight", random(r, ffn * dim, 0, 0.15));
            w.put(p + "mlp.down_proj.weight", random(r, dim * ffn, 0, 0.1));
        }
        w.put("model.norm.weight", random(r, dim, 1, 0.2));
        if (!tied) {
            w.put("lm_head.weight", random(r, vocab * dim, 0, 0.3));
        }
        return new HfCheckpointFixture(qwen2, tied, vocab, dim, ffn, heads, kvHeads, headDim, layers, 64, eps, theta, w);
    }

    long[] shape(String name) {
        int n = weights.get(name).length;
        if (name.endsWith("norm.weight") || name.endsWith(".bias")) {
            return new long[] {n};
        }
        int cols = name.contains("down_proj") ? ffn : name.contains("o_proj") ? heads * headDim : dim;
        return new long[] {n / cols, cols};
    }

    String configJson() {
        return """
                {
                  "architectures": ["%s"],
                  "model_type": "%s",
                  "hidden_size": %d,
                  "intermediate_size": %d,
                  "num_attention_heads": %d,
                  "num_key_value_heads": %d,
                  "head_dim": %d,
                  "num_hidden_layers": %d,
                  "vocab_size": %d,
                  "max_position_embeddings": %d,
                  "rms_norm_eps": %s,
                  "rope_theta": %s,
                  "rope_scaling": null,
                  "hidden_act": "silu",
                  "tie_word_embeddings": %b,
                  "torch_dtype": "float32"
                }
                """.formatted(qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM", qwen2 ? "qwen2" : "llama", dim, ffn, heads,
                kvHeads, headDim, layers, vocab, maxSeq, Double.toString(eps), Double.toString(theta), tied);
    }

    /** One F32 file, as {@code save_pretrained} writes a small model. */
    Path writeSingleFile(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), configJson());
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        weights.forEach((name, values) -> tensors.put(name, Tensor.f32(values, shape(name))));
        write(dir.resolve("model.safetensors"), tensors);
        return dir;
    }

    /**
     * Two BF16 shards and their index, as large checkpoints come. The fixture's weights are rounded to BF16 first,
     * so they stay what the files hold.
     */
    Path writeBf16Shards(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), configJson());
        List<String> names = List.copyOf(weights.keySet());
        StringBuilder map = new StringBuilder();
        for (int s = 0; s < 2; s++) {
            String file = "model-0000" + (s + 1) + "-of-00002.safetensors";
            SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
            for (int i = s; i < names.size(); i += 2) {
                String name = names.get(i);
                float[] v = weights.get(name);
                short[] bits = new short[v.length];
                for (int k = 0; k < v.length; k++) {
                    bits[k] = Bf16.encode(v[k]);
                    v[k] = Bf16.decode(bits[k]);
                }
                tensors.put(name, Tensor.ofShorts(DType.BF16, bits, shape(name)));
                map.append(map.isEmpty() ? "" : ",\n").append("    \"").append(name).append("\": \"").append(file).append('"');
            }
            write(dir.resolve(file), tensors);
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\n  \"metadata\": {\"total_size\": 0},\n  \"weight_map\": {\n" + map + "\n  }\n}\n");
        return dir;
    }

    private static void write(Path file, SequencedMap<String, Tensor> tensors) throws IOException {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            SafetensorsWriter.write(out, Map.of("format", "pt"), tensors);
        }
    }

    private static float[] random(SplittableRandom r, int n, double mean, double spread) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + spread * (2 * r.nextDouble() - 1));
        }
        return v;
    }
}

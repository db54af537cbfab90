package dev.octet.hf;

import java.util.Map;

/**
 * The Hugging Face Llama/Qwen2 forward pass written out plainly in float64, independent of Octet's ops: RMSNorm,
 * rotate-half RoPE (element i pairs with i + headDim/2), causal grouped-query attention, SwiGLU, final norm,
 * LM head (the embedding when tied). Weights are read by their Hugging Face names.
 */
final class HfReferenceForward {
    private final HfCheckpointFixture m;
    private final Map<String, float[]> w;

    HfReferenceForward(HfCheckpointFixture model) {
        this.m = model;
        this.w = model.weights();
    }

    /** Logits [tokens.length, vocab] of one sequence. */
    double[][] logits(int[] tokens) {
        int n = tokens.length, dim = m.dim(), hd = m.headDim();
        double[][] h = new double[n][];
        for (int t = 0; t < n; t++) {
            h[t] = row(w.get("model.embed_tokens.weight"), tokens[t], dim);
        }
        for (int l = 0; l < m.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] x = rmsNorm(h[t], w.get(p + "input_layernorm.weight"));
                q[t] = rope(linear(x, p + "self_attn.q_proj", m.heads() * hd), t, m.heads());
                k[t] = rope(linear(x, p + "self_attn.k_proj", m.kvHeads() * hd), t, m.kvHeads());
                v[t] = linear(x, p + "self_attn.v_proj", m.kvHeads() * hd);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[m.heads() * hd];
                for (int head = 0; head < m.heads(); head++) {
                    int kv = head / (m.heads() / m.kvHeads());
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) {
                            dot += q[t][head * hd + d] * k[s][kv * hd + d];
                        }
                        scores[s] = dot / Math.sqrt(hd);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        scores[s] = Math.exp(scores[s] - max);
                        sum += scores[s];
                    }
                    for (int s = 0; s <= t; s++) {
                        for (int d = 0; d < hd; d++) {
                            att[head * hd + d] += scores[s] / sum * v[s][kv * hd + d];
                        }
                    }
                }
                add(h[t], linear(att, p + "self_attn.o_proj", dim));
            }
            for (int t = 0; t < n; t++) {
                double[] x = rmsNorm(h[t], w.get(p + "post_attention_layernorm.weight"));
                double[] gate = linear(x, p + "mlp.gate_proj", m.ffn());
                double[] up = linear(x, p + "mlp.up_proj", m.ffn());
                double[] act = new double[m.ffn()];
                for (int i = 0; i < act.length; i++) {
                    act[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                add(h[t], linear(act, p + "mlp.down_proj", dim));
            }
        }
        double[][] logits = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] x = rmsNorm(h[t], w.get("model.norm.weight"));
            logits[t] = linear(x, m.tied() ? "model.embed_tokens" : "lm_head", m.vocab());
        }
        return logits;
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + m.eps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * r * weight[i];
        }
        return out;
    }

    /** y = W·x + b for W [out, in] named {@code name.weight}, with {@code name.bias} when the checkpoint has one. */
    private double[] linear(double[] x, String name, int out) {
        float[] weight = w.get(name + ".weight");
        float[] bias = w.get(name + ".bias");
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = bias == null ? 0 : bias[o];
            for (int i = 0; i < x.length; i++) {
                s += (double) weight[o * x.length + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    /** HF's apply_rotary_pos_emb: x·cos + rotate_half(x)·sin, rotate_half(x) = [−x2, x1]. */
    private double[] rope(double[] x, int position, int heads) {
        int hd = m.headDim(), half = hd / 2;
        double[] out = new double[x.length];
        for (int head = 0; head < heads; head++) {
            for (int i = 0; i < hd; i++) {
                double invFreq = 1 / Math.pow(m.theta(), (2.0 * (i % half)) / hd);
                double angle = position * invFreq;
                double rotated = i < half ? -x[head * hd + i + half] : x[head * hd + i - half];
                out[head * hd + i] = x[head * hd + i] * Math.cos(angle) + rotated * Math.sin(angle);
            }
        }
        return out;
    }

    private static double[] row(float[] matrix, int r, int cols) {
        double[] out = new double[cols];
        for (int c = 0; c < cols; c++) {
            out[c] = matrix[r * cols + c];
        }
        return out;
    }

    private static void add(double[] into, double[] x) {
        for (int i = 0; i < into.length; i++) {
            into[i] += x[i];
        }
    }
}

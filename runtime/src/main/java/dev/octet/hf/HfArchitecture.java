package dev.octet.hf;

import dev.octet.dsl.spec.Projection;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The Hugging Face model classes Octet reads and writes. Both are the Llama layout (RMSNorm, rotate-half RoPE,
 * grouped-query attention, SwiGLU); they differ only in biases: Qwen2 always has them on q, k and v, Llama on
 * q, k, v and o when {@code attention_bias} is set, else nowhere.
 */
public enum HfArchitecture {
    QWEN2("Qwen2ForCausalLM", "qwen2"),
    LLAMA("LlamaForCausalLM", "llama");

    private static final Set<Projection> QKV = EnumSet.of(Projection.Q, Projection.K, Projection.V);
    private static final Set<Projection> QKVO = EnumSet.of(Projection.Q, Projection.K, Projection.V, Projection.O);

    private final String className;
    private final String modelType;

    HfArchitecture(String className, String modelType) {
        this.className = className;
        this.modelType = modelType;
    }

    /** The class named in config.json's {@code architectures}. */
    public String className() {
        return className;
    }

    /** config.json's {@code model_type}. */
    public String modelType() {
        return modelType;
    }

    public static Optional<HfArchitecture> byClassName(String name) {
        return Arrays.stream(values()).filter(a -> a.className.equals(name)).findFirst();
    }

    public static Optional<HfArchitecture> byModelType(String type) {
        return Arrays.stream(values()).filter(a -> a.modelType.equals(type)).findFirst();
    }

    /** The class that carries exactly these biases, if any does. */
    public static Optional<HfArchitecture> forBiases(Set<Projection> biases) {
        if (biases.equals(QKV)) {
            return Optional.of(QWEN2);
        }
        if (biases.isEmpty() || biases.equals(QKVO)) {
            return Optional.of(LLAMA);
        }
        return Optional.empty();
    }

    static Set<Projection> qkv() {
        return QKV;
    }

    static Set<Projection> qkvo() {
        return QKVO;
    }
}

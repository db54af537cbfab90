package dev.octet.hf;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.RopeScaling;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * A Hugging Face {@code config.json} of a Qwen2 or Llama model, as Octet's hyper-parameters. Everything
 * Octet's forward pass would compute differently is refused rather than dropped: RoPE scaling, sliding-window
 * attention, an activation other than SiLU, MLP biases.
 */
public record HfConfig(HfArchitecture architecture, ModelConfig model) {
    public static final String FILE_NAME = "config.json";

    /** Reads {@code dir/config.json}. */
    public static HfConfig read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        JsonObject json;
        try {
            json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new InteropException(file, "not found; a Hugging Face model directory holds config.json and *.safetensors");
        } catch (JsonParseException | IllegalStateException e) {
            throw new InteropException(file, "is not a JSON object");
        }
        Fields f = new Fields(file, json);
        HfArchitecture arch = architecture(f);
        int dim = f.integer("hidden_size");
        int heads = f.integer("num_attention_heads");
        int kvHeads = f.optionalInteger("num_key_value_heads").orElse(heads);
        int headDim = f.optionalInteger("head_dim").orElseGet(() -> dim / heads);
        RopeSettings rope = rope(f);
        f.requireAbsentOr("hidden_act", "silu");
        if (f.bool("use_sliding_window", false)) {
            throw new InteropException(file, "use_sliding_window = true: Octet's attention is full causal attention");
        }
        JsonElement layerTypes = json.get("layer_types");
        if (layerTypes != null && layerTypes.isJsonArray()) {
            for (JsonElement t : layerTypes.getAsJsonArray()) {
                if (!t.isJsonPrimitive() || !t.getAsString().equals("full_attention")) {
                    throw new InteropException(file, "layer_types holds " + t + "; Octet's attention is full causal attention");
                }
            }
        }
        if (f.bool("mlp_bias", false)) {
            throw new InteropException(file, "mlp_bias = true: Octet's SwiGLU has no biases");
        }
        Set<Projection> biases = switch (arch) {
            case QWEN2 -> HfArchitecture.qkv();
            case LLAMA -> f.bool("attention_bias", false) ? HfArchitecture.qkvo() : Set.of();
        };
        ModelConfig model = new ModelConfig(f.integer("vocab_size"), dim, f.integer("intermediate_size"), heads, kvHeads,
                headDim, f.integer("num_hidden_layers"), f.integer("max_position_embeddings"),
                f.real("rms_norm_eps").orElse(1e-6), rope.theta(), rope.scaling(), f.bool("tie_word_embeddings", false),
                biases);
        if (heads % kvHeads != 0) {
            throw new InteropException(file, "num_key_value_heads = " + kvHeads + " does not divide num_attention_heads = " + heads);
        }
        return new HfConfig(arch, model);
    }

    /** The config of an Octet model, for its architecture; refused when no supported class has its biases. */
    public static HfConfig of(ModelConfig model, Path source) throws InteropException {
        HfArchitecture arch = HfArchitecture.forBiases(model.biases()).orElseThrow(() -> new InteropException(source,
                "biases on " + model.biases().stream().map(Projection::lowerName).sorted().toList()
                        + " fit neither Qwen2 (q, k, v) nor Llama (none, or q, k, v, o)"));
        return new HfConfig(arch, model);
    }

    /**
     * Keys that change what the model computes although Octet writes them only for some models: a kept one
     * from an earlier config.json would make transformers compute something else, so a merge drops them.
     */
    private static final Set<String> COMPUTATION_KEYS = Set.of("layer_types", "sliding_window", "use_sliding_window",
            "max_window_layers", "mlp_bias", "attention_bias", "rope_scaling", "rope_parameters", "hidden_act", "head_dim",
            "num_key_value_heads", "pretraining_tp", "partial_rotary_factor", "tie_word_embeddings", "quantization_config");

    /**
     * As {@link #toJson(String)}, keeping the keys of {@code previous} (the config.json being replaced) that Octet
     * does not own: token ids, the transformers version, custom fields. Octet owns what it writes and every key
     * that changes the computation.
     */
    public String toJson(String torchDtype, Optional<JsonObject> previous) {
        JsonObject o = JsonParser.parseString(toJson(torchDtype)).getAsJsonObject();
        previous.ifPresent(p -> p.entrySet().stream()
                .filter(e -> !o.has(e.getKey()) && !COMPUTATION_KEYS.contains(e.getKey()))
                .forEach(e -> o.add(e.getKey(), e.getValue())));
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n";
    }

    /** config.json as transformers writes it for this class, weights stored as {@code torchDtype}. */
    public String toJson(String torchDtype) {
        ModelConfig c = model;
        JsonObject o = new JsonObject();
        com.google.gson.JsonArray architectures = new com.google.gson.JsonArray();
        architectures.add(architecture.className());
        o.add("architectures", architectures);
        o.addProperty("model_type", architecture.modelType());
        o.addProperty("vocab_size", c.vocab());
        o.addProperty("hidden_size", c.dim());
        o.addProperty("intermediate_size", c.ffn());
        o.addProperty("num_hidden_layers", c.layers());
        o.addProperty("num_attention_heads", c.heads());
        o.addProperty("num_key_value_heads", c.kvHeads());
        o.addProperty("head_dim", c.headDim());
        o.addProperty("max_position_embeddings", c.maxSeq());
        o.addProperty("rms_norm_eps", c.normEps());
        o.addProperty("rope_theta", c.ropeTheta());
        // transformers 5 reads rope_parameters, earlier versions rope_theta and rope_scaling; each ignores the other.
        JsonObject rope = new JsonObject();
        rope.addProperty("rope_type", c.ropeScaling().isPresent() ? "llama3" : "default");
        rope.addProperty("rope_theta", c.ropeTheta());
        c.ropeScaling().ifPresent(s -> {
            rope.addProperty("factor", s.factor());
            rope.addProperty("low_freq_factor", s.lowFreqFactor());
            rope.addProperty("high_freq_factor", s.highFreqFactor());
            rope.addProperty("original_max_position_embeddings", s.originalMaxSeq());
        });
        if (c.ropeScaling().isPresent()) {
            JsonObject scaling = rope.deepCopy();
            scaling.remove("rope_theta");
            o.add("rope_scaling", scaling);
        } else {
            o.add("rope_scaling", JsonNull.INSTANCE);
        }
        o.add("rope_parameters", rope);
        o.addProperty("tie_word_embeddings", c.tiedEmbeddings());
        o.addProperty("hidden_act", "silu");
        o.addProperty("attention_dropout", 0.0);
        o.addProperty("initializer_range", 0.02);
        o.addProperty("use_cache", true);
        o.addProperty("torch_dtype", torchDtype);
        o.addProperty("dtype", torchDtype);
        switch (architecture) {
            case QWEN2 -> {
                o.addProperty("use_sliding_window", false);
                o.addProperty("max_window_layers", c.layers());
            }
            case LLAMA -> {
                o.addProperty("attention_bias", c.hasBias(Projection.O));
                o.addProperty("mlp_bias", false);
                o.addProperty("pretraining_tp", 1);
            }
        }
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n";
    }

    private static HfArchitecture architecture(Fields f) throws InteropException {
        JsonElement list = f.json.get("architectures");
        if (list != null && list.isJsonArray() && !list.getAsJsonArray().isEmpty()) {
            String name = list.getAsJsonArray().get(0).getAsString();
            return HfArchitecture.byClassName(name).orElseThrow(() -> new InteropException(f.file,
                    "architecture " + name + " is not supported; expected Qwen2ForCausalLM or LlamaForCausalLM"));
        }
        String type = f.string("model_type");
        return HfArchitecture.byModelType(type).orElseThrow(() -> new InteropException(f.file,
                "model_type " + type + " is not supported; expected qwen2 or llama"));
    }

    /** RoPE's base and scaling as config.json states them. */
    private record RopeSettings(double theta, Optional<RopeScaling> scaling) {}

    /**
     * {@code rope_theta} at the top level (transformers 4) or in {@code rope_parameters} (transformers 5); the
     * rope type in {@code rope_scaling} (4) or {@code rope_parameters} (5): default, or Llama 3's {@code llama3}.
     */
    private static RopeSettings rope(Fields f) throws InteropException {
        Optional<Double> theta = Optional.empty();
        Optional<RopeScaling> scaling = Optional.empty();
        for (String key : new String[] {"rope_scaling", "rope_parameters"}) {
            JsonElement e = f.json.get(key);
            if (e == null || e.isJsonNull()) {
                continue;
            }
            if (!e.isJsonObject()) {
                throw new InteropException(f.file, key + " is not an object");
            }
            Fields r = new Fields(f.file, e.getAsJsonObject());
            JsonElement type = r.json.has("rope_type") ? r.json.get("rope_type") : r.json.get("type");
            String t = type == null || type.isJsonNull() ? "default" : type.getAsString();
            switch (t) {
                case "default" -> {}
                case "llama3" -> {
                    double factor = r.real("factor").orElseThrow(() -> new InteropException(f.file, key + " has no factor"));
                    double low = r.real("low_freq_factor").orElseThrow(() -> new InteropException(f.file, key + " has no low_freq_factor"));
                    double high = r.real("high_freq_factor").orElseThrow(() -> new InteropException(f.file, key + " has no high_freq_factor"));
                    int original = r.integer("original_max_position_embeddings");
                    if (!(factor >= 1) || !(low > 0) || !(high > low) || original < 1) {
                        throw new InteropException(f.file, key + " holds llama3 scaling factor " + factor + ", low_freq_factor "
                                + low + ", high_freq_factor " + high + ", original_max_position_embeddings " + original
                                + "; expected factor >= 1 and 0 < low_freq_factor < high_freq_factor");
                    }
                    scaling = Optional.of(new RopeScaling(factor, low, high, original));
                }
                default -> throw new InteropException(f.file, key + " has rope_type " + t
                        + "; Octet's RoPE is the default one or Llama 3's (llama3)");
            }
            if (theta.isEmpty() && r.json.has("rope_theta")) {
                theta = r.real("rope_theta");
            }
        }
        Optional<Double> top = f.real("rope_theta");
        return new RopeSettings(top.orElse(theta.orElse(10_000.0)), scaling);
    }

    /** Typed access to config.json's fields, each error naming the file and the field. */
    private record Fields(Path file, JsonObject json) {
        int integer(String key) throws InteropException {
            return optionalInteger(key).orElseThrow(() -> new InteropException(file, "has no " + key));
        }

        Optional<Integer> optionalInteger(String key) throws InteropException {
            JsonElement e = json.get(key);
            if (e == null || e.isJsonNull()) {
                return Optional.empty();
            }
            try {
                int v = e.getAsJsonPrimitive().getAsBigDecimal().intValueExact();
                if (v < 1) {
                    throw new ArithmeticException();
                }
                return Optional.of(v);
            } catch (RuntimeException bad) {
                throw new InteropException(file, key + " = " + e + ", expected a positive integer");
            }
        }

        Optional<Double> real(String key) throws InteropException {
            JsonElement e = json.get(key);
            if (e == null || e.isJsonNull()) {
                return Optional.empty();
            }
            try {
                return Optional.of(e.getAsJsonPrimitive().getAsBigDecimal().doubleValue());
            } catch (RuntimeException bad) {
                throw new InteropException(file, key + " = " + e + ", expected a number");
            }
        }

        boolean bool(String key, boolean fallback) throws InteropException {
            JsonElement e = json.get(key);
            if (e == null || e.isJsonNull()) {
                return fallback;
            }
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
                throw new InteropException(file, key + " = " + e + ", expected true or false");
            }
            return e.getAsBoolean();
        }

        String string(String key) throws InteropException {
            JsonElement e = json.get(key);
            if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw new InteropException(file, "has neither architectures nor a string " + key);
            }
            return e.getAsString();
        }

        void requireAbsentOr(String key, String expected) throws InteropException {
            JsonElement e = json.get(key);
            if (e != null && !e.isJsonNull() && !(e.isJsonPrimitive() && e.getAsString().equals(expected))) {
                throw new InteropException(file, key + " = " + e + "; Octet supports only " + expected);
            }
        }
    }
}

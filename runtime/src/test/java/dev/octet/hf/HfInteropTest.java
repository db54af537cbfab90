package dev.octet.hf;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.checkpoint.DType;
import dev.octet.checkpoint.MasterWeights;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.cli.ExitCodes;
import dev.octet.cli.OctetMain;
import dev.octet.cpu.exec.ForwardLogits;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Import and export of Hugging Face Qwen2 and Llama checkpoints on tiny random models: weights survive
 * import → export → import bit for bit, and Octet's forward pass of an imported model gives the logits of an
 * independent float64 implementation of the Hugging Face convention.
 */
class HfInteropTest {
    private static final int[][] TOKENS = {{1, 17, 42, 99, 3, 127, 64, 5, 0, 88, 17}, {120, 2, 2, 2, 33, 71, 9, 14, 100, 56, 7}};

    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void qwen2RoundTripIsBitIdenticalAndLogitsMatchTheReference(@TempDir Path dir) throws IOException {
        HfCheckpointFixture qwen = HfCheckpointFixture.qwen2(7);
        roundTripAndCompare(qwen, qwen.writeSingleFile(dir.resolve("Qwen2-tiny")), dir);
    }

    @Test
    void tiedLlamaFromBf16ShardsRoundTripsAndMatchesTheReference(@TempDir Path dir) throws IOException {
        HfCheckpointFixture llama = HfCheckpointFixture.llamaTied(11);
        roundTripAndCompare(llama, llama.writeBf16Shards(dir.resolve("llama-tiny")), dir);
    }

    private void roundTripAndCompare(HfCheckpointFixture fixture, Path hf, Path dir) throws IOException {
        Path imported = dir.resolve("imported");
        assertEquals(ExitCodes.OK, OctetMain.run("import", "hf", hf.toString(), "--out", imported.toString()), console.err());
        Path modelFile = imported.resolve(HfImporter.MODEL_FILE);
        assertEquals(ExitCodes.OK, OctetMain.run("check", modelFile.toString()), console.err());
        String source = Files.readString(modelFile);
        assertEquals(fixture.qwen2(), source.contains("bias           = [q, k, v]"), source);
        assertEquals(fixture.tied(), source.contains("tie_embeddings = true"), source);

        Path exported = dir.resolve("exported");
        assertEquals(ExitCodes.OK, OctetMain.run("export", "hf", imported.toString(), "--out", exported.toString(),
                "--dtype", "f32"), console.err());
        assertEquals(fixture.qwen2() ? HfArchitecture.QWEN2 : HfArchitecture.LLAMA, HfConfig.read(exported).architecture());
        assertEquals(HfConfig.read(hf).model(), HfConfig.read(exported).model());
        try (SafetensorsFile f = SafetensorsFile.open(exported.resolve(HfExporter.WEIGHTS_FILE))) {
            assertEquals("pt", f.metadata().get("format"));
            assertEquals(fixture.weights().keySet(), new java.util.HashSet<>(f.names()), "HF names, lm_head only when untied");
            for (String name : f.names()) {
                assertArrayEquals(bits(fixture.weights().get(name)), bits(f.floats(name)), name);
            }
        }
        Path reimported = dir.resolve("reimported");
        assertEquals(ExitCodes.OK, OctetMain.run("import", "hf", exported.toString(), "--out", reimported.toString(),
                "--name", "again"), console.err());
        try (SafetensorsFile a = SafetensorsFile.open(imported.resolve(HfImporter.WEIGHTS_FILE));
             SafetensorsFile b = SafetensorsFile.open(reimported.resolve(HfImporter.WEIGHTS_FILE))) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                assertArrayEquals(bits(a.floats(name)), bits(b.floats(name)), name);
            }
        }

        ModelSpec model = OctetModelFiles.load(modelFile);
        ParameterStore params = ParameterStore.zeros(model);
        MasterWeights.load(imported.resolve(HfImporter.WEIGHTS_FILE), params);
        double[] logits = ForwardLogits.of(model, params, TOKENS);
        HfReferenceForward reference = new HfReferenceForward(fixture);
        int vocab = fixture.vocab(), length = TOKENS[0].length;
        double diff = 0, norm = 0;
        for (int b = 0; b < TOKENS.length; b++) {
            double[][] expected = reference.logits(TOKENS[b]);
            for (int t = 0; t < length; t++) {
                for (int v = 0; v < vocab; v++) {
                    double d = logits[(b * length + t) * vocab + v] - expected[t][v];
                    diff += d * d;
                    norm += expected[t][v] * expected[t][v];
                }
            }
        }
        double relative = Math.sqrt(diff / norm);
        assertTrue(norm > 0 && relative < 1e-4, "‖octet − reference‖/‖reference‖ = " + relative);
    }

    @Test
    void bf16ExportRoundsToNearestEven(@TempDir Path dir) throws IOException {
        HfCheckpointFixture qwen = HfCheckpointFixture.qwen2(3);
        Path imported = dir.resolve("imported");
        HfImporter.run(qwen.writeSingleFile(dir.resolve("hf")), imported, "tiny");
        ModelSpec model = OctetModelFiles.load(imported.resolve(HfImporter.MODEL_FILE));
        HfExporter.run(model, imported.resolve(HfImporter.MODEL_FILE), imported.resolve(HfImporter.WEIGHTS_FILE),
                dir.resolve("bf16"), DType.BF16);
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("bf16").resolve(HfExporter.WEIGHTS_FILE))) {
            String name = "model.layers.1.mlp.up_proj.weight";
            assertEquals(DType.BF16, f.info(name).dtype());
            short[] stored = f.shorts(name);
            float[] original = qwen.weights().get(name);
            for (int i = 0; i < stored.length; i++) {
                assertEquals(dev.octet.numerics.Bf16.encode(original[i]), stored[i], name + "[" + i + "]");
            }
        }
        assertTrue(Files.readString(dir.resolve("bf16").resolve("config.json")).contains("\"torch_dtype\": \"bfloat16\""));
    }

    @Test
    void unknownArchitectureIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        Path hf = HfCheckpointFixture.qwen2(1).writeSingleFile(dir.resolve("hf"));
        Path config = hf.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("Qwen2ForCausalLM", "MistralForCausalLM"));
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("import", "hf", hf.toString(), "--out", dir.resolve("o").toString()));
        String message = console.err().strip();
        assertTrue(message.contains(config.toString()) && message.contains("MistralForCausalLM")
                && message.contains("LlamaForCausalLM"), message);
        assertEquals(1, message.lines().count(), message);
        assertFalse(Files.exists(dir.resolve("o").resolve(HfImporter.MODEL_FILE)));
    }

    @Test
    void llama3RopeScalingRoundTripsAndOtherRopeTypesAreRefused(@TempDir Path dir) throws IOException {
        Path hf = HfCheckpointFixture.llamaTied(1).writeSingleFile(dir.resolve("hf"));
        Path config = hf.resolve("config.json");
        String plain = Files.readString(config);
        Files.writeString(config, plain.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"llama3\", "
                + "\"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}"));
        HfImporter.run(hf, dir.resolve("o"), "m");
        String source = Files.readString(dir.resolve("o").resolve(HfImporter.MODEL_FILE));
        assertTrue(source.contains("rope_scaling   = llama3(factor = 32, low_freq_factor = 1, high_freq_factor = 4, "
                + "original_max_seq = 8192)"), source);
        ModelSpec model = OctetModelFiles.load(dir.resolve("o").resolve(HfImporter.MODEL_FILE));
        assertEquals(java.util.Optional.of(new dev.octet.dsl.spec.RopeScaling(32, 1, 4, 8192)), model.config().ropeScaling());
        assertEquals(ExitCodes.OK, OctetMain.run("export", "hf", dir.resolve("o").toString(), "--out",
                dir.resolve("exported").toString(), "--dtype", "f32"), console.err());
        assertEquals(HfConfig.read(hf).model(), HfConfig.read(dir.resolve("exported")).model());

        Files.writeString(config, plain.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 32.0}"));
        InteropException incomplete = assertThrows(InteropException.class, () -> HfImporter.run(hf, dir.resolve("o2"), "m"));
        assertTrue(incomplete.getMessage().startsWith(config.toString()) && incomplete.getMessage().contains("low_freq_factor"),
                incomplete.getMessage());
        Files.writeString(config, plain.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}"));
        InteropException yarn = assertThrows(InteropException.class, () -> HfImporter.run(hf, dir.resolve("o3"), "m"));
        assertTrue(yarn.getMessage().startsWith(config.toString()) && yarn.getMessage().contains("yarn"), yarn.getMessage());
    }

    @Test
    void missingTensorIsNamed(@TempDir Path dir) throws IOException {
        HfCheckpointFixture qwen = HfCheckpointFixture.qwen2(1);
        qwen.weights().remove("model.layers.1.self_attn.k_proj.bias");
        Path hf = qwen.writeSingleFile(dir.resolve("hf"));
        InteropException e = assertThrows(InteropException.class, () -> HfImporter.run(hf, dir.resolve("o"), "m"));
        assertTrue(e.getMessage().contains(hf.toString()) && e.getMessage().contains("model.layers.1.self_attn.k_proj.bias"),
                e.getMessage());
    }

    @Test
    void wrongShapeIsNamedWithFileAndTensor(@TempDir Path dir) throws IOException {
        HfCheckpointFixture qwen = HfCheckpointFixture.qwen2(1);
        Path hf = qwen.writeSingleFile(dir.resolve("hf"));
        Path config = hf.resolve("config.json");
        // config.json now promises a wider FFN than the tensors have.
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\": 128", "\"intermediate_size\": 192"));
        InteropException e = assertThrows(InteropException.class, () -> HfImporter.run(hf, dir.resolve("o"), "m"));
        assertTrue(e.getMessage().startsWith(hf.resolve("model.safetensors").toString())
                && e.getMessage().contains("model.layers.0.mlp.gate_proj.weight") && e.getMessage().contains("[192, 64]"),
                e.getMessage());
    }

    @Test
    void exportRefusesAGraphWithoutHuggingFaceCounterpart(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("gelu.octet");
        Files.writeString(file, """
                model gelu {
                  vocab = 128  dim = 64  ffn = 128  heads = 4  layers = 1  max_seq = 32
                  forward {
                    x = embedding(tokens)
                    repeat layers {
                      x = x + attention(rmsnorm(x), rope = true)
                      x = x + gelu_mlp(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                  }
                }
                """);
        ModelSpec model = OctetModelFiles.load(file);
        Path weights = dir.resolve("w.safetensors");
        MasterWeights.write(weights, ParameterStore.initialize(model, 1), java.util.Map.of());
        InteropException e = assertThrows(InteropException.class,
                () -> HfExporter.run(model, file, weights, dir.resolve("o"), DType.F32));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("no Hugging Face counterpart"),
                e.getMessage());
    }

    @Test
    void standardSourceRoundTripsItsNumbers() throws IOException {
        for (double eps : List.of(1e-6, 1e-5, 1.5e-6)) {
            for (double theta : List.of(10_000.0, 500_000.0, 1_000_000.0, 1234.5)) {
                for (var scaling : List.of(java.util.Optional.<dev.octet.dsl.spec.RopeScaling>empty(),
                        java.util.Optional.of(new dev.octet.dsl.spec.RopeScaling(8, 1, 4, 8192)),
                        java.util.Optional.of(new dev.octet.dsl.spec.RopeScaling(2.5, 0.5, 1.5, 100)))) {
                    var config = new dev.octet.dsl.spec.ModelConfig(128, 64, 128, 4, 2, 16, 2, 64, eps, theta, scaling, true,
                            java.util.Set.of());
                    String text = StandardModelSource.render("m", config, "test");
                    assertEquals(config, OctetModelFiles.parse(Path.of("m.octet"), text, "m").config(), text);
                }
            }
        }
        assertEquals("qwen2_5_0_5b_instruct", StandardModelSource.nameFrom("Qwen2.5-0.5B-Instruct"));
        assertEquals("m_123", StandardModelSource.nameFrom("123"));
    }

    private static int[] bits(float[] values) {
        int[] b = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = Float.floatToRawIntBits(values[i]);
        }
        return b;
    }
}

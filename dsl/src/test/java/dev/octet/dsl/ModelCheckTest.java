package dev.octet.dsl;

import static dev.octet.dsl.Checked.assertHelp;
import static dev.octet.dsl.Checked.check;
import static dev.octet.dsl.Sources.model;
import static dev.octet.dsl.Sources.modelWithForward;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.dsl.diag.Diagnostic;
import dev.octet.dsl.spec.ModelConfig;
import dev.octet.dsl.spec.RopeScaling;
import org.junit.jupiter.api.Test;

/** The hyper-parameters and the forward graph of a model block. */
class ModelCheckTest {
    @Test
    void theBaseModelIsValid() {
        Checked c = check(Sources.MODEL).clean();
        assertEquals(16, c.program().model("m").orElseThrow().config().headDim());
    }

    @Test
    void headsMustDivideDim() {
        Diagnostic d = check(model("""
                  vocab = 256
                  dim = 64
                  ffn = 128
                  heads = 5
                  layers = 2
                  max_seq = 64
                """)).only("heads = 5 does not divide dim = 64", 5, 11);
        assertHelp(d, "set head_dim explicitly");
    }

    @Test
    void explicitHeadDimLiftsTheDivisibilityRule() {
        check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 5\n  head_dim = 16\n  layers = 2\n  max_seq = 64")).clean();
    }

    @Test
    void kvHeadsMustDivideHeads() {
        check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 4\n  kv_heads = 3\n  layers = 2\n  max_seq = 64"))
                .only("kv_heads = 3 does not divide heads = 4", 6, 14);
    }

    @Test
    void llama3RopeScalingIsReadWithAllFourOptions() {
        String settings = "  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 4\n  layers = 2\n  max_seq = 64\n";
        Checked c = check(model(settings + "  rope_scaling = llama3(factor = 32, low_freq_factor = 1, high_freq_factor = 4, "
                + "original_max_seq = 8192)")).clean();
        assertEquals(java.util.Optional.of(new RopeScaling(32, 1, 4, 8192)),
                c.program().model("m").orElseThrow().config().ropeScaling());
        assertEquals(java.util.Optional.empty(), check(Sources.MODEL).clean().program().model("m").orElseThrow()
                .config().ropeScaling());
        check(model(settings + "  rope_scaling = llama3(factor = 32, low_freq_factor = 1, high_freq_factor = 4)"))
                .only("llama3(...) needs original_max_seq", 8, 18);
        check(model(settings + "  rope_scaling = yarn(factor = 4)")).only("'rope_scaling' expects llama3(...), found 'yarn'", 8, 18);
        check(model(settings + "  rope_scaling = llama3(factor = 32, low_freq_factor = 4, high_freq_factor = 1, "
                + "original_max_seq = 8192)")).only("llama3 RoPE scaling needs low_freq_factor < high_freq_factor and "
                + "original_max_seq >= 1", 8, 18);
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesDividesLowOnesAndBlendsBetween() {
        RopeScaling s = new RopeScaling(32, 1, 4, 8192);
        double[] plain = ModelConfig.ropeInverseFrequencies(500_000, 64, java.util.Optional.empty());
        double[] scaled = ModelConfig.ropeInverseFrequencies(500_000, 64, java.util.Optional.of(s));
        int kept = 0, divided = 0, blended = 0;
        for (int i = 0; i < plain.length; i++) {
            double wavelength = 2 * Math.PI / plain[i];
            if (wavelength < 8192 / 4.0) {
                assertEquals(plain[i], scaled[i], "frequency " + i + " is short: kept");
                kept++;
            } else if (wavelength > 8192 / 1.0) {
                assertEquals(plain[i] / 32, scaled[i], "frequency " + i + " is long: divided by the factor");
                divided++;
            } else {
                double smooth = (8192 / wavelength - 1) / (4 - 1);
                assertEquals((1 - smooth) * plain[i] / 32 + smooth * plain[i], scaled[i], 1e-18, "frequency " + i);
                org.junit.jupiter.api.Assertions.assertTrue(scaled[i] < plain[i] && scaled[i] > plain[i] / 32);
                blended++;
            }
        }
        // Llama 3.2 1B's 32 frequencies: the transformers implementation splits them the same way.
        assertEquals(32, kept + divided + blended);
        org.junit.jupiter.api.Assertions.assertTrue(kept > 0 && divided > 0 && blended > 0, kept + " " + divided + " " + blended);
    }

    @Test
    void renamingTheTokenInputIsAnError() {
        check("""
                model m {
                  vocab = 256  dim = 64  ffn = 128  heads = 4  layers = 2  max_seq = 64
                  forward {
                    ids = tokens
                    x = embedding(ids)
                    repeat layers {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(x)
                    loss = cross_entropy(logits, targets)
                  }
                }
                """).only("'ids' would only rename the model input", 4, 11);
    }

    @Test
    void aTiedHeadNeedsATokenEmbeddingBeforeIt() {
        check("""
                model m {
                  vocab = 256  dim = 64  ffn = 128  heads = 4  layers = 2  max_seq = 64  tie_embeddings = true
                  forward {
                    x = position_embedding(tokens)
                    repeat layers {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(x)
                    loss = cross_entropy(logits, targets)
                  }
                }
                """).only("a tied lm_head needs an embedding(tokens) before it", 8, 14);
    }

    @Test
    void kvHeadsAboveHeadsIsOutOfRange() {
        check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 4\n  kv_heads = 8\n  layers = 2\n  max_seq = 64"))
                .only("'kv_heads' = 8 is out of range", 6, 14);
    }

    @Test
    void oddHeadDimIsAnError() {
        check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 4\n  head_dim = 15\n  layers = 2\n  max_seq = 64"))
                .only("head_dim = 15 must be even", 6, 14);
    }

    @Test
    void misspelledSettingGetsASuggestion() {
        Diagnostic d = check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  hedas = 4\n  heads = 4\n  layers = 2\n  max_seq = 64"))
                .only("unknown setting 'hedas' in model 'm'", 5, 3);
        assertHelp(d, "did you mean 'heads'?");
    }

    @Test
    void unknownSettingWithoutNeighbourListsTheSettings() {
        Diagnostic d = check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 4\n  layers = 2\n  max_seq = 64\n  zzzzzz = 1"))
                .only("unknown setting 'zzzzzz'", 8, 3);
        assertHelp(d, "takes: bias, dim, ffn");
    }

    @Test
    void duplicateSettingPointsAtTheFirst() {
        Diagnostic d = check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 4\n  heads = 4\n  layers = 2\n  max_seq = 64"))
                .only("duplicate definition of 'heads' in model 'm'", 6, 3);
        assertHelp(d, "first defined at test.octet:5:3");
    }

    @Test
    void missingRequiredSettingIsReportedAtTheBlock() {
        check(model("  vocab = 256\n  dim = 64\n  ffn = 128\n  heads = 4\n  layers = 2"))
                .only("model 'm' is missing the setting 'max_seq'", 1, 1);
    }

    @Test
    void negativeZeroHugeAndFractionalValuesAreRejected() {
        Checked c = check(model("""
                  vocab = -256
                  dim = 0
                  ffn = 10000000000000000000000000000000000000000
                  heads = 4.5
                  layers = 1e40
                  max_seq = 99999999999999999999
                """));
        c.expect("'vocab' = -256 is out of range", 2, 11);
        c.expect("'dim' = 0 is out of range", 3, 9);
        c.expect("'ffn' = 1.00000E+40 is out of range", 4, 9);
        c.expect("'heads' must be an integer, found 4.5", 5, 11);
        c.expect("'layers' = 1E+40 is out of range", 6, 12);
        c.expect("'max_seq' = 99999999999999999999 is out of range", 7, 13);
        assertEquals(6, c.errors().size(), c.rendered());
    }

    @Test
    void integerWrittenWithAZeroFractionIsAnInteger() {
        check(model("  vocab = 256.0\n  dim = 64\n  ffn = 128\n  heads = 4\n  layers = 2\n  max_seq = 64")).clean();
    }

    @Test
    void wrongKindOfValueIsDescribed() {
        Checked c = check(model("""
                  vocab = "256"
                  dim = sixty_four
                  ffn = 128
                  heads = 4
                  layers = 2
                  max_seq = 64
                  tie_embeddings = yes
                  bias = [q, kk]
                """));
        c.expect("'vocab' must be an integer, found a string", 2, 11);
        c.expect("'dim' must be an integer, found the name 'sixty_four'", 3, 9);
        c.expect("'tie_embeddings' must be true or false", 8, 20);
        assertHelp(c.expect("unknown value 'kk' for 'bias'", 9, 14), "did you mean 'k'?");
    }

    /** Regression: 1e-400 is above 0 as a decimal but 0.0 as a double, which made norm_eps zero. */
    @Test
    void positiveValueThatRoundsToZeroIsOutOfRange() {
        check(model(Sources.SETTINGS + "  norm_eps = 1e-400\n")).only("'norm_eps' = 1E-400 is out of range", 8, 14);
    }

    /** Regression: the message printed the value in full, a billion digits for 1e999999999, and hung. */
    @Test
    void enormousExponentIsReportedQuickly() {
        check(model(Sources.SETTINGS + "  rope_theta = 1e999999999\n"))
                .only("'rope_theta' = 1E+999999999 is out of range", 8, 16);
    }

    @Test
    void unknownOpGetsASuggestion() {
        Diagnostic d = check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers {
                      x = x + attention(rmsnrom(x))
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("unknown op 'rmsnrom'", 11, 25);
        assertHelp(d, "did you mean 'rmsnorm'?");
    }

    @Test
    void unknownNameGetsASuggestion() {
        Diagnostic d = check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers {
                      x = x + attention(rmsnorm(x))
                      x = x + swiglu(rmsnorm(xx))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("unknown name 'xx'", 12, 30);
        assertHelp(d, "did you mean 'x'?");
    }

    /** A name whose definition failed is not reported again at each use: one mistake, one error. */
    @Test
    void opUsedAsANameIsExplained() {
        Diagnostic d = check(modelWithForward("""
                    x = embedding
                    repeat layers {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("unknown name 'embedding'", 9, 9);
        assertHelp(d, "'embedding' is an op: call it, e.g. embedding(tokens)");
    }

    @Test
    void modelWithoutLoss() {
        check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                """)).only("model 'm' has no loss", 8, 3);
    }

    @Test
    void lossMustComeLast() {
        check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                    y = rmsnorm(x)
                """)).only("the forward block must end by binding the loss", 15, 5);
    }

    @Test
    void modelWithoutForward() {
        check("model m {\n" + Sources.SETTINGS + "}\n").only("model 'm' has no forward block", 1, 1);
    }

    @Test
    void nestedRepeatIsAnError() {
        check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers {
                      repeat layers {
                        x = x + swiglu(rmsnorm(x))
                      }
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("repeat blocks cannot be nested", 11, 7);
    }

    @Test
    void secondRepeatIsAnError() {
        check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers { x = x + swiglu(rmsnorm(x)) }
                    repeat layers { x = x + swiglu(rmsnorm(x)) }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("a second repeat block", 11, 5);
    }

    @Test
    void repeatCountMustEqualLayers() {
        Diagnostic d = check(modelWithForward("""
                    x = embedding(tokens)
                    repeat 3 {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("the block repeats 3 times but the model has layers = 2", 10, 12);
        assertHelp(d, "write 'repeat layers'");
    }

    @Test
    void repeatCountEqualToLayersIsFine() {
        check(modelWithForward("""
                    x = embedding(tokens)
                    repeat 2 {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).clean();
    }

    @Test
    void misspelledRepeatCount() {
        assertHelp(check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layres {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("unknown repeat count 'layres'", 10, 12), "did you mean 'layers'?");
    }

    @Test
    void addingValuesOfOtherKindsIsAnError() {
        check(modelWithForward("""
                    x = embedding(tokens) + tokens
                    repeat layers {
                      x = x + swiglu(rmsnorm(x))
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("'+' adds hidden states, found hidden states [tokens, dim] + token ids", 9, 27);
    }

    @Test
    void wrongNumberOfInputsAndUnknownOptions() {
        Checked c = check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers {
                      x = x + attention(rmsnorm(x), rpoe = true)
                      x = x + swiglu(rmsnorm(x), x)
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits)
                """));
        assertHelp(c.expect("'attention' has no option 'rpoe'", 11, 37), "did you mean 'rope'?");
        c.expect("'swiglu' takes 1 input, found 2", 12, 15);
        c.expect("'cross_entropy' takes 2 inputs, found 1", 15, 12);
    }

    @Test
    void nonCausalAttentionIsRefused() {
        check(modelWithForward("""
                    x = embedding(tokens)
                    repeat layers {
                      x = x + attention(rmsnorm(x), causal = false)
                    }
                    logits = lm_head(rmsnorm(x))
                    loss = cross_entropy(logits, targets)
                """)).only("attention must be causal", 11, 46);
    }
}

package dev.octet.dsl;

import static dev.octet.dsl.Checked.assertHelp;
import static dev.octet.dsl.Checked.check;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Recipe blocks: values, and which granularities fit which operand of which GEMM. */
class RecipeCheckTest {
    @Test
    void unknownFormatListsTheFormats() {
        assertHelp(check("recipe r {\n  format = e6m1\n}\n").only("unknown value 'e6m1' for 'format'", 2, 12),
                "expected one of: e4m3, e5m2");
    }

    @Test
    void misspelledFormatGetsASuggestion() {
        assertHelp(check("recipe r {\n  format = e4n3\n}\n").only("unknown value 'e4n3' for 'format'", 2, 12),
                "did you mean 'e4m3'?");
    }

    @Test
    void misspelledScalingPolicyGetsASuggestion() {
        assertHelp(check("recipe r {\n  scaling = delayd(history = 8)\n}\n").only("unknown scaling policy 'delayd'", 2, 13),
                "did you mean 'delayed'?");
    }

    @Test
    void delayedScalingOptionsAreCheckedAndRanged() {
        Checked c = check("recipe r {\n  scaling = delayed(history = 0, margin = 1, hist = 3)\n}\n");
        c.expect("'history' = 0 is out of range", 2, 31);
        c.expect("unknown option 'hist' of delayed scaling", 2, 46);
        assertEquals(2, c.errors().size(), c.rendered());
    }

    @Test
    void tokenScalesForWeightsInFpropAreAnError() {
        assertHelp(check("recipe r {\n  fprop { weights = token }\n}\n")
                .only("in recipe 'r', fprop reads weights with channels as rows, so per-token scales would vary along its reduction axis", 2, 21),
                "use channel");
    }

    @Test
    void tokenScalesForAllWeightsAreAnErrorInFpropAndDgrad() {
        Checked c = check("recipe r {\n  weights = token\n}\n");
        c.expect("fprop reads weights with channels as rows", 2, 13);
        c.expect("dgrad reads weights with channels as rows", 2, 13);
        assertEquals(2, c.errors().size(), c.rendered());
    }

    @Test
    void channelScalesForActivationsInFpropAreAnError() {
        assertHelp(check("recipe r {\n  activations = channel\n}\n")
                .only("in recipe 'r', fprop reduces activations over channels, so per-channel scales would vary along its reduction axis", 2, 17),
                "use token");
    }

    @Test
    void wgradOperandsHaveChannelsAsRows() {
        check("recipe r {\n  wgrad {\n    activations = channel\n    gradients = channel\n  }\n}\n").clean();
        check("recipe r {\n  wgrad { gradients = token }\n}\n").only("wgrad reads gradients with channels as rows", 2, 23);
    }

    @Test
    void theMostSpecificSettingWins() {
        // weights = token at the top would be wrong in fprop and dgrad; fprop overrides it, so only dgrad is left.
        check("recipe r {\n  weights = token\n  fprop { weights = channel }\n}\n")
                .only("dgrad reads weights with channels as rows", 2, 13);
    }

    @Test
    void wgradDoesNotReadWeights() {
        assertHelp(check("recipe r {\n  wgrad { weights = tensor }\n}\n").only("wgrad does not read weights", 2, 11),
                "wgrad dW = dYᵀ·X gradients and activations");
    }

    @Test
    void groupAndBlockNeedOneSize() {
        Checked c = check("recipe r {\n  weights = block\n  activations = group(1, 2)\n  gradients = grup(128)\n}\n");
        c.expect("'block' needs a size", 2, 13);
        c.expect("'group' takes one size", 3, 17);
        assertHelp(c.expect("unknown granularity 'grup'", 4, 15), "did you mean 'group'?");
        assertEquals(3, c.errors().size(), c.rendered());
    }

    @Test
    void groupSizeIsRanged() {
        check("recipe r {\n  activations = group(0)\n}\n").only("'group size' = 0 is out of range", 2, 23);
    }

    @Test
    void unknownBf16KindGetsASuggestion() {
        assertHelp(check("recipe r {\n  bf16 = [embedding, lmhead]\n}\n").only("unknown op kind 'lmhead' in bf16", 2, 22),
                "did you mean 'lm_head'?");
    }

    @Test
    void misspelledRoleBlockGetsASuggestion() {
        assertHelp(check("recipe r {\n  gradient { format = e5m2 }\n}\n").only("unexpected block 'gradient' in recipe 'r'", 2, 3),
                "did you mean 'gradients'?");
    }

    @Test
    void recipeForAModelThatDoesNotExist() {
        assertHelp(check(Sources.MODEL + "recipe r for n {\n  format = e4m3\n}\n")
                .only("recipe 'r' is for model 'n', which does not exist", 18, 14), "did you mean 'm'?");
    }

    @Test
    void recipeForAModelIsCheckedAgainstItsShapes() {
        // The model's dim is 64: a 48-wide group leaves a partial group along K of every q/k/v projection.
        Checked c = check(Sources.MODEL + "recipe r for m {\n  activations = group(48)\n}\n");
        c.expect("recipe 'r': group(48) does not divide K = 64 of the fprop activations of q projections", 18, 1);
    }
}

package dev.octet.dsl;

import static dev.octet.dsl.Checked.assertHelp;
import static dev.octet.dsl.Checked.check;
import static dev.octet.dsl.Checked.checkFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.dsl.spec.TrainingSpec;
import org.junit.jupiter.api.Test;

/** Training blocks, and what is checked across definitions and files. */
class ProgramCheckTest {
    /** Lines 18-20: a recipe; lines 21-28: a training block pairing it with model m. */
    private static String training(String recipe, String model, String recipeName, int micro, int global, int seqLen) {
        return Sources.MODEL + """
                recipe r {
                  activations = %s
                }
                training t {
                  model = %s
                  recipe = %s
                  micro_batch = %d
                  global_batch = %d
                  seq_len = %d
                  steps = 10
                }
                """.formatted(recipe, model, recipeName, micro, global, seqLen);
    }

    @Test
    void validTrainingBlockResolves() {
        TrainingSpec t = check(training("group(32)", "m", "r", 2, 8, 32)).clean().program().trainings().getFirst();
        assertEquals(4, t.accumulation());
        assertEquals("r", t.recipe().orElseThrow());
    }

    @Test
    void groupSizeNotDividingADimensionIsReportedAtTheTrainingsRecipe() {
        Checked c = check(training("group(48)", "m", "r", 2, 4, 32));
        c.expect("recipe 'r': group(48) does not divide K = 64 of the fprop activations of q projections", 23, 12);
        // wgrad reduces over the micro-batch's tokens: 2 x 32 = 64 is not a multiple of 48 either.
        c.expect("group(48) does not divide the 64 tokens of a micro-batch of the wgrad activations", 23, 12);
    }

    @Test
    void groupSizeThatDividesEverythingIsFine() {
        check(training("group(64)", "m", "r", 1, 1, 64)).clean();
    }

    @Test
    void unknownModelGetsASuggestion() {
        assertHelp(check(training("tensor", "mm", "r", 2, 4, 32)).only("unknown model 'mm'", 22, 11), "did you mean 'm'?");
    }

    @Test
    void unknownRecipeSaysToImportIt() {
        assertHelp(check(training("tensor", "m", "infir2", 2, 4, 32)).only("unknown recipe 'infir2'", 23, 12),
                "import the file that defines it");
    }

    @Test
    void seqLenAboveMaxSeq() {
        check(training("tensor", "m", "r", 2, 4, 128)).only("seq_len = 128 exceeds the max_seq = 64 of model 'm'", 26, 13);
    }

    @Test
    void globalBatchMustBeAMultipleOfMicroBatch() {
        check(training("tensor", "m", "r", 2, 5, 32)).only("global_batch = 5 is not a multiple of micro_batch = 2", 25, 18);
    }

    @Test
    void warmupMustBeShorterThanTheRun() {
        check("training t {\n  model = m\n  micro_batch = 1\n  seq_len = 8\n  steps = 10\n  schedule = cosine(warmup = 10)\n}\n"
                + Sources.MODEL).only("warmup = 10 is not shorter than steps = 10", 6, 14);
    }

    @Test
    void optimizerOptionsAreNamedAndRanged() {
        Checked c = check("training t {\n  model = m\n  micro_batch = 1\n  seq_len = 8\n  steps = 10\n"
                + "  optimizer = adamw(lr = -1, beta1 = 1.5, betta2 = 0.9)\n}\n" + Sources.MODEL);
        c.expect("'lr' = -1 is out of range", 6, 26);
        c.expect("'beta1' = 1.5 is out of range", 6, 38);
        assertHelp(c.expect("unknown option 'betta2' of adamw", 6, 43), "did you mean 'beta2'?");
    }

    @Test
    void duplicateModelInOneFile() {
        assertHelp(check(Sources.MODEL + Sources.MODEL).only("duplicate definition of model 'm'", 18, 7),
                "first defined at test.octet:1:7");
    }

    @Test
    void duplicateModelAcrossTwoFiles() {
        Checked c = checkFiles("a.octet", Sources.MODEL, "b.octet", "# the same model again\n" + Sources.MODEL);
        var d = c.only("duplicate definition of model 'm'", 2, 7);
        assertEquals("b.octet", d.pos().file());
        assertHelp(d, "first defined at a.octet:1:7");
    }

    @Test
    void aModelAndARecipeMayShareAName() {
        check(Sources.MODEL + "recipe m { format = e4m3 }\n").clean();
    }

    @Test
    void unknownDefinitionKindGetsASuggestion() {
        assertHelp(check("modle m { }\n").only("unknown definition 'modle'", 1, 1), "did you mean 'model'?");
    }

    @Test
    void forIsOnlyForRecipes() {
        check(Sources.MODEL.replace("model m {", "model m for m {")).only("'for' is only for recipes", 1, 13);
    }

    @Test
    void recipeBoundToAnotherModelCannotTrainThisOne() {
        String other = Sources.MODEL.replace("model m {", "model n {");
        check(Sources.MODEL + "recipe r for n { }\ntraining t {\n  model = m\n  recipe = r\n  micro_batch = 1\n  seq_len = 8\n  steps = 2\n}\n" + other)
                .only("recipe 'r' is for model 'n', not 'm'", 21, 12);
    }

    @Test
    void trainingWithoutANameIsNamedAfterItsFile() {
        var t = checkFiles("run.octet", Sources.MODEL + "training {\n  model = m\n  micro_batch = 1\n  seq_len = 8\n  steps = 2\n}\n",
                "x.octet", "").clean().program().trainings().getFirst();
        assertEquals("run", t.name());
    }
}

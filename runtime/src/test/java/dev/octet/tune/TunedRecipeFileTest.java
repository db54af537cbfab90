package dev.octet.tune;

import static dev.octet.tune.SyntheticOperands.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file the tuner writes is a checked program: its recipe says what was decided, its training block trains the model. */
class TunedRecipeFileTest {
    private static final Path TINY = Path.of("..", "examples", "tiny.octet");

    @Test
    void theWrittenRecipeChecksAndSaysWhatWasDecided(@TempDir Path dir) throws IOException {
        Diagnostics d = new Diagnostics();
        Program tiny = ProgramLoader.load(List.of(TINY), d);
        assertFalse(d.hasErrors(), DiagnosticPrinter.render(d));
        TrainingSpec training = tiny.trainings().getFirst();
        RecipeSpec infir2 = tiny.recipe("infir2").orElseThrow();
        List<OperandMeasurements> measured = new ArrayList<>(
                allOperands(linear(Projection.DOWN, 1), unscalable(1), zeroAtEvenColumns(gaussian(OTHER_ROWS, K, 2)), 3));
        measured.addAll(allOperands(linear(Projection.Q, 0), outlierTokens(4), gaussian(OTHER_ROWS, K, 5), 6));
        TuneDecision decision = RecipeTuner.decide(measured, RecipeTuner.DEFAULT_BOUND);
        Path out = dir.resolve("tuned").resolve("tiny-tuned.octet");
        Files.createDirectories(out.getParent());
        Path data = Path.of("..", "examples", "data", "brown.txt.gz");

        String text = TunedRecipeFile.render(out, new TunedRecipeFile.Calibration(TINY, data, training, infir2, 2, training.microBatch(),
                Optional.empty()), decision);
        Files.writeString(out, text);

        Diagnostics written = new Diagnostics();
        Program program = ProgramLoader.load(List.of(out), written);
        assertFalse(written.hasErrors(), DiagnosticPrinter.render(written) + text);
        RecipeSpec tuned = program.recipe("infir2_tuned").orElseThrow();
        assertTrue(tuned.bf16().projections().contains(Projection.DOWN), text);
        assertTrue(tuned.bf16().opKinds().containsAll(infir2.bf16().opKinds()), "the file's own BF16 choices stay");
        assertTrue(tuned.bf16().projections().contains(Projection.LM_HEAD));
        for (Gemm gemm : Gemm.values()) {
            for (Role role : gemm.operands()) {
                TuneCandidate c = decision.choice(gemm, role).candidate();
                assertEquals(c.granularity(), tuned.operand(gemm, role).granularity(), gemm + " " + role);
                assertEquals(c.format(), tuned.operand(gemm, role).format());
                assertEquals(c.scale(), tuned.operand(gemm, role).scaleType());
            }
        }
        assertTrue(tuned.operand(Gemm.FPROP, Role.ACTIVATIONS).granularity() instanceof dev.octet.numerics.Granularity.Token, text);
        TrainingSpec retrained = program.trainings().stream().filter(t -> t.pos().file().equals(out.toString())).findFirst().orElseThrow();
        assertEquals("infir2_tuned", retrained.recipe().orElseThrow());
        assertEquals(training.optimizer(), retrained.optimizer());
        assertEquals(training.schedule(), retrained.schedule());
        assertEquals(List.of(training.microBatch(), training.globalBatch(), training.seqLen(), training.steps()),
                List.of(retrained.microBatch(), retrained.globalBatch(), retrained.seqLen(), retrained.steps()));
        assertEquals(training.seed(), retrained.seed());
        assertEquals(data.toAbsolutePath().normalize(), out.getParent().resolve(retrained.data().orElseThrow()).toAbsolutePath().normalize());
        assertTrue(text.contains("# layers.1.down stays BF16: its fprop activations miss 5.00%"), text);
        assertTrue(text.contains("# activations: token e4m3 ue8m0, the cheapest within 5.00% on its 1 layers"), text);
    }
}

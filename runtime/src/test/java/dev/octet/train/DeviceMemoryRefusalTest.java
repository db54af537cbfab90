package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.DeviceMemoryInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The check GpuBackend runs between opening the context and allocating, with the compiler re-planning for real and
 * only the device's free memory made up: the tiny example (micro_batch 4 of global_batch 4).
 */
class DeviceMemoryRefusalTest {
    private static ModelSpec model;
    private static RecipeSpec recipe;
    private static TrainingSpec spec;

    @BeforeAll
    static void load() {
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(Path.of("..", "examples", "tiny.octet")), d);
        if (d.hasErrors()) {
            throw new AssertionError(DiagnosticPrinter.render(d));
        }
        model = p.model("tiny").orElseThrow();
        recipe = p.recipe("infir2").orElseThrow();
        spec = p.trainings().getFirst();
    }

    @Test
    void aStepThatDoesNotFitIsRefusedWithTheMicroBatchThatDoes() {
        DeviceMemoryPlan planned = DeviceMemoryPlan.of(Lowering.compile(CompileTarget.of(model, recipe, spec), Lowering.QUIET));
        DeviceMemoryPlan half = StepReplanner.compiler(model, recipe, spec).plan(2, false);
        assertTrue(half.arenaBytes() < planned.arenaBytes(), half + " vs " + planned);
        DeviceMemoryBudget budget = new DeviceMemoryBudget(planned, new DeviceMemoryInfo(half.bytesAfterContext(), 80L << 30));
        List<String> reported = new ArrayList<>();
        DeviceMemoryShortfallException e = assertThrows(DeviceMemoryShortfallException.class,
                () -> GpuBackend.requireFit(budget, model, recipe, spec, OptionalLong.empty(), reported::add));
        assertEquals(List.of(budget.describe()), reported);
        assertTrue(e.getMessage().startsWith("the step at micro_batch = 4 needs "), e.getMessage());
        assertTrue(e.getMessage().contains("; would fit: micro_batch = 2 ("), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aStepThatFitsPassesAndIsReported() {
        DeviceMemoryPlan planned = DeviceMemoryPlan.of(Lowering.compile(CompileTarget.of(model, recipe, spec), Lowering.QUIET));
        List<String> reported = new ArrayList<>();
        GpuBackend.requireFit(new DeviceMemoryBudget(planned, new DeviceMemoryInfo(planned.bytesAfterContext(), 80L << 30)),
                model, recipe, spec, OptionalLong.empty(), reported::add);
        assertEquals(1, reported.size());
        assertTrue(reported.getFirst().startsWith("device memory: arena "), reported.getFirst());
    }
}

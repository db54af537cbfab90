package dev.octet.compiler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.ExamplePrograms;
import dev.octet.compiler.Lowering;
import dev.octet.dsl.spec.Program;
import org.junit.jupiter.api.Test;

/** The device memory of a compiled step by part: the arena exactly, its largest workspace, the driver's estimate. */
class DeviceMemoryPlanTest {
    @Test
    void theTinyStepsArenaHoldsTheLogitsWorkspaceAndTheDriverComesOnTop() {
        Program p = ExamplePrograms.loadWithRecipe("tiny.octet", "infir2");
        StepPlan plan = Lowering.compile(CompileTarget.of(p.model("tiny").orElseThrow(), ExamplePrograms.recipe(p, "infir2"),
                ExamplePrograms.training(p)), Lowering.QUIET);
        DeviceMemoryPlan m = DeviceMemoryPlan.of(plan);
        assertEquals(plan.memory().arenaBytes(), m.arenaBytes());
        // The default workspace holds the 512 tokens' logits over the 4096-token vocabulary in one chunk.
        assertEquals(2L * 512 * 4096, m.workspaceBytes());
        assertTrue(m.workspace().matches("kernel\\d+\\.logits"), m.workspace());
        assertEquals(m.arenaBytes() + DeviceMemoryPlan.CONTEXT_BYTES + DeviceMemoryPlan.LOADED_BYTES, m.totalBytes());
        assertEquals(m.arenaBytes() + DeviceMemoryPlan.LOADED_BYTES, m.bytesAfterContext());
    }

    @Test
    void aWorkspaceLargerThanTheArenaIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceMemoryPlan(1 << 20, 2 << 20, "kernel1.logits", 0, 0));
    }
}

package dev.octet.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.OperandQuant;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Role;
import dev.octet.dsl.spec.Scaling;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The shipped examples: they check cleanly, count the published parameters, and the recipes mean what they say. */
class ExamplesTest {
    private static Program load(String... path) {
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(Path.of("..", path)), d);
        assertFalse(d.hasErrors(), DiagnosticPrinter.render(d));
        return p;
    }

    @Test
    void everyExampleChecksCleanly() throws IOException {
        List<Path> files = MutationTest.exampleFiles();
        assertTrue(files.size() >= 9, files.toString());
        for (Path f : files) {
            Diagnostics d = new Diagnostics();
            ProgramLoader.load(List.of(f), d);
            assertEquals("", DiagnosticPrinter.render(d), f.toString());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "gpt2-124m.octet, gpt2_124m, 124439808",
            "llama3.2-1b.octet, llama3_2_1b, 1235814400",
            "qwen2.5-1.5b.octet, qwen2_5_1_5b, 1543714304",
            "qwen2.5-7b.octet, qwen2_5_7b, 7615616512"})
    void parameterCountEqualsThePublishedOne(String file, String model, long published) {
        Program p = load("examples", file);
        assertEquals(published, ParameterTable.of(p.model(model).orElseThrow()).parameterCount());
    }

    @Test
    void tinyImportsItsRecipe() {
        Program p = load("examples", "tiny.octet");
        assertEquals("infir2", p.trainings().getFirst().recipe().orElseThrow());
        assertTrue(p.recipe("infir2").isPresent());
    }

    private static RecipeSpec recipe(String file, String name) {
        return load("examples", "recipes", file).recipe(name).orElseThrow();
    }

    @Test
    void infir2IsBlockWeightsAndGroupedActivationsAndGradientsInEveryGemm() {
        RecipeSpec r = recipe("infir2.octet", "infir2");
        OperandQuant weights = new OperandQuant(Fp8Format.E4M3, new Granularity.Block(128), ScaleType.UE8M0, new Scaling.Current());
        OperandQuant grouped = new OperandQuant(Fp8Format.E4M3, new Granularity.Group(128), ScaleType.UE8M0, new Scaling.Current());
        for (Gemm g : Gemm.values()) {
            for (Role role : g.operands()) {
                assertEquals(role == Role.WEIGHTS ? weights : grouped, r.operand(g, role), g + " " + role);
            }
        }
        assertFalse(r.allBf16());
    }

    @Test
    void tensorwiseDelayedUsesE5m2ForGradientsOnly() {
        RecipeSpec r = recipe("tensorwise-delayed.octet", "tensorwise_delayed");
        for (Gemm g : Gemm.values()) {
            for (Role role : g.operands()) {
                OperandQuant q = r.operand(g, role);
                assertEquals(new Granularity.Tensor(), q.granularity(), g + " " + role);
                assertEquals(ScaleType.FP32, q.scaleType());
                assertEquals(new Scaling.Delayed(1024, 0), q.scaling());
                assertEquals(role == Role.GRADIENTS ? Fp8Format.E5M2 : Fp8Format.E4M3, q.format(), g + " " + role);
            }
        }
    }

    @Test
    void rowwiseHasChannelOperandsInWgrad() {
        RecipeSpec r = recipe("rowwise.octet", "rowwise");
        assertEquals(new Granularity.Channel(), r.operand(Gemm.FPROP, Role.WEIGHTS).granularity());
        assertEquals(new Granularity.Token(), r.operand(Gemm.FPROP, Role.ACTIVATIONS).granularity());
        assertEquals(new Granularity.Token(), r.operand(Gemm.DGRAD, Role.GRADIENTS).granularity());
        assertEquals(new Granularity.Channel(), r.operand(Gemm.DGRAD, Role.WEIGHTS).granularity());
        assertEquals(new Granularity.Channel(), r.operand(Gemm.WGRAD, Role.ACTIVATIONS).granularity());
        assertEquals(new Granularity.Channel(), r.operand(Gemm.WGRAD, Role.GRADIENTS).granularity());
    }

    @Test
    void bf16KeepsEverythingOutOfFp8() {
        assertTrue(recipe("bf16.octet", "bf16").allBf16());
    }
}

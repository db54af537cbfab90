package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.passes.Fusion;
import dev.octet.compiler.passes.KernelFormation;
import dev.octet.compiler.passes.LmHeadLossChunking;
import dev.octet.compiler.passes.MemoryPlanning;
import dev.octet.compiler.passes.QuantizeFromInputs;
import dev.octet.compiler.passes.WeightsQuantizedPerStep;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.Recompute;
import dev.octet.dsl.spec.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The IR after every pass for the tiny model, compared with snapshots in src/test/resources/golden.
 * A change to a pass shows up here as a text diff. To accept intended changes, regenerate them with
 * {@code mvn -q -pl compiler -am test -Dtest=GoldenIrTest -Dsurefire.failIfNoSpecifiedTests=false -Doctet.updateGolden=true}
 * and review the diff before committing.
 */
class GoldenIrTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final boolean UPDATE = Boolean.getBoolean("octet.updateGolden");

    /** The tiny model's 4 × 128 tokens in chunks of 120 (a ragged last one of 32): what differs is in these passes. */
    private static final long FIVE_LOSS_CHUNKS = 120L * 4096 * 2;
    private static final List<String> CHUNK_PASSES = List.of(LmHeadLossChunking.NAME, KernelFormation.NAME,
            MemoryPlanning.NAME);

    /** With recompute = [norm, activation]: what differs is from the recompute pass on. */
    private static final List<String> RECOMPUTE_PASSES = List.of("recompute", QuantizeFromInputs.NAME, Fusion.NAME,
            KernelFormation.NAME, MemoryPlanning.NAME);

    /** Four micro-batches a step: the weights' quantizations move into the optimizer phase. */
    private static final List<String> PER_STEP_PASSES = List.of(WeightsQuantizedPerStep.NAME, Fusion.NAME,
            KernelFormation.NAME, MemoryPlanning.NAME);

    static Stream<Arguments> cases() {
        long workspace = LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES;
        return Stream.of(
                Arguments.of("tiny.octet", "infir2", workspace, "", Lowering.PASSES, Set.of()),
                Arguments.of("tiny.octet", "bf16", workspace, "", Lowering.PASSES, Set.of()),
                Arguments.of("tiny.octet", "tensorwise-delayed", workspace, "", Lowering.PASSES, Set.of()),
                Arguments.of("tiny.octet", "infir2", FIVE_LOSS_CHUNKS, "-loss-chunks", CHUNK_PASSES, Set.of()),
                Arguments.of("tiny.octet", "infir2", workspace, "-recompute", RECOMPUTE_PASSES,
                        Set.of(Recompute.NORM, Recompute.ACTIVATION)),
                Arguments.of("tiny-data-parallel.octet", "infir2", workspace, "", PER_STEP_PASSES, Set.of()));
    }

    @ParameterizedTest(name = "{0} with {1}{3}")
    @MethodSource("cases")
    void irAfterEveryPassMatchesItsSnapshot(String modelFile, String recipeName, long lossWorkspace, String suffix,
                                            List<String> passes, Set<Recompute> recompute) throws IOException {
        Program p = ExamplePrograms.loadWithRecipe(modelFile, recipeName);
        TrainingSpec t = ExamplePrograms.training(p, modelFile);
        RecipeSpec recipe = ExamplePrograms.recipe(p, recipeName).withRecompute(recompute);
        Map<String, String> dumps = new LinkedHashMap<>();
        Lowering.compile(CompileTarget.of(p.model(t.model()).orElseThrow(), recipe, t).withLossWorkspace(lossWorkspace),
                dumps::put);
        assertEquals(Lowering.PASSES, dumps.keySet().stream().toList(), "every pass dumps, in order");
        dumps.keySet().retainAll(passes);
        Path dir = GOLDEN.resolve(modelFile.replace(".octet", "") + "-" + recipeName + suffix);
        for (Map.Entry<String, String> e : dumps.entrySet()) {
            Path file = dir.resolve(e.getKey() + ".ir");
            if (UPDATE) {
                Files.createDirectories(dir);
                Files.writeString(file, e.getValue());
                continue;
            }
            assertTrue(Files.isRegularFile(file), "no snapshot " + file + "; create it with -Doctet.updateGolden=true");
            assertEquals(Files.readString(file), e.getValue(), "IR after pass '" + e.getKey() + "' differs from " + file);
        }
    }
}

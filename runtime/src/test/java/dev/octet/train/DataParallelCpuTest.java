package dev.octet.train;

import dev.octet.dist.GradientExchange;
import dev.octet.cpu.exec.Fp8HealthCollector;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.data.Batch;
import dev.octet.data.BatchSampler;
import dev.octet.data.TokenDataset;
import dev.octet.dist.RankBatches;
import dev.octet.dist.RankEnvironment;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.testing.ExampleText;
import dev.octet.testing.ModelSources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data-parallel schedule (ZeRO-2), simulated with ranks as threads on the CPU backend, against the
 * one-process run with the same global batch. Every rank holds the same bits as every other after each step
 * (sums in rank order, each gradient summed at its parameter's owner, each parameter updated by its owner and
 * handed on). Against one process only orders of summation differ (each rank's micro-batches first, then the
 * ranks' sums in rank order, where one process adds the micro-batches one by one; the norm from the owners' sums
 * of squares), so losses and weights agree to rounding: 1e-12 relative on the FP64 losses, 1e-6 relative on the
 * FP32 weights and moments after the steps below.
 */
class DataParallelCpuTest {
    private static final int STEPS = 3;
    static final String SOURCE = ModelSources.SMALL + ModelSources.RECIPES + """
            recipe delayed {
              granularity = tensor  scale = fp32  scaling = delayed(history = 4, margin = 0)  format = e4m3
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            training run {
              model = small  recipe = infir2
              optimizer = adamw(lr = 3e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = cosine(warmup = 1, min_lr = 3e-4)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 8  seq_len = 64  steps = 3  seed = 11
            }
            """;

    private static Program program;
    private static TokenDataset data;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException {
        program = ModelSources.load(dir, SOURCE);
        data = ExampleText.brown(512);
    }

    /** Losses per step, then each parameter's master weights, first moments and second moments at the end. */
    private record Run(List<Double> losses, List<float[]> masters, List<float[]> m, List<float[]> v) {}

    @ParameterizedTest(name = "{0}, {1} ranks")
    @CsvSource({"infir2, 2", "infir2, 4", "bf16, 2"})
    void ranksMatchEachOtherExactlyAndOneProcessToRounding(String recipe, int world) throws Exception {
        Run single = train(recipe, GradientExchange.SINGLE, RankEnvironment.single());
        SimulatedRanks ranks = new SimulatedRanks(world);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        List<Run> runs = new ArrayList<>();
        try {
            List<Future<Run>> futures = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                futures.add(pool.submit(() -> train(recipe, ranks.rank(rank),
                        new RankEnvironment(rank, world, rank, "127.0.0.1", RankEnvironment.DEFAULT_PORT))));
            }
            for (Future<Run> f : futures) {
                runs.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        for (int r = 1; r < world; r++) {
            assertEquals(runs.getFirst().losses(), runs.get(r).losses(), "rank " + r + "'s losses");
            for (int p = 0; p < single.masters().size(); p++) {
                assertArrayEquals(runs.getFirst().masters().get(p), runs.get(r).masters().get(p), "rank " + r + ", parameter " + p);
            }
        }
        // Only a parameter's owner keeps its moments (what its checkpoint shard holds).
        ParameterShards shards = ParameterShards.of(single.masters().stream().map(w -> w.length).toList(), world);
        List<float[]> m = new ArrayList<>(), v = new ArrayList<>();
        for (int p = 0; p < single.masters().size(); p++) {
            m.add(runs.get(shards.owner(p)).m().get(p));
            v.add(runs.get(shards.owner(p)).v().get(p));
        }
        for (int step = 0; step < STEPS; step++) {
            double want = single.losses().get(step), got = runs.getFirst().losses().get(step);
            assertEquals(want, got, 1e-12 * Math.abs(want), "loss of step " + step);
        }
        // Weights relative to themselves or 1e-3 (those near zero), moments relative to themselves.
        double worst = Math.max(worstRelative(single.masters(), runs.getFirst().masters(), 1e-3f),
                Math.max(worstRelative(single.m(), m, Float.MIN_NORMAL), worstRelative(single.v(), v, Float.MIN_NORMAL)));
        System.out.printf("%s, %d ranks: weights and moments differ from one process by at most %.3g relative%n", recipe, world, worst);
        assertTrue(worst <= 1e-6, "weights and moments after " + STEPS + " steps differ by " + worst + " relative");
        // The steps did train: the weights moved.
        assertTrue(!java.util.Arrays.equals(single.masters().getFirst(), ParameterStore.initialize(
                program.model("small").orElseThrow(), program.trainings().getFirst().seed()).entries().getFirst().master()));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"infir2", "bf16"})
    void aNonFiniteValueOnOneRankSkipsTheStepOnEvery(String recipe) throws Exception {
        int world = 2;
        SimulatedRanks ranks = new SimulatedRanks(world);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        List<List<TrainingBackend.StepOutcome>> outcomes = new ArrayList<>();
        List<List<float[]>> masters = new ArrayList<>();
        try {
            List<Future<CpuBackend>> futures = new ArrayList<>();
            List<List<TrainingBackend.StepOutcome>> perRank = List.of(new ArrayList<>(), new ArrayList<>());
            for (int r = 0; r < world; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    // Rank 1 poisons an FFN output in its third forward call: the first micro-batch of step 1.
                    GraphInterpreter.LinearPolicy policy = poisoning(program.recipe(recipe).orElseThrow(),
                            rank == 1 ? 2 : -1);
                    CpuBackend backend = new CpuBackend(program.model("small").orElseThrow(),
                            program.recipe(recipe).orElseThrow(), program.trainings().getFirst(), policy,
                            new Fp8HealthCollector(), ranks.rank(rank));
                    perRank.get(rank).addAll(trainSteps(backend, new RankEnvironment(rank, world, rank, "127.0.0.1",
                            RankEnvironment.DEFAULT_PORT)));
                    return backend;
                }));
            }
            for (Future<CpuBackend> f : futures) {
                masters.add(f.get().parameters().entries().stream().map(e -> e.master().clone()).toList());
            }
            outcomes.addAll(perRank);
        } finally {
            pool.shutdownNow();
        }
        for (int r = 0; r < world; r++) {
            List<TrainingBackend.StepOutcome> o = outcomes.get(r);
            assertTrue(o.get(0).wasApplied() && o.get(2).wasApplied(), "rank " + r + ": " + o);
            assertFalse(o.get(1).wasApplied(), "rank " + r + " applied the poisoned step: " + o.get(1));
        }
        for (int p = 0; p < masters.getFirst().size(); p++) {
            assertArrayEquals(masters.get(0).get(p), masters.get(1).get(p), "parameter " + p);
        }
    }

    @Test
    void parametersAreSharedOutWholeAndEvenly() {
        ParameterShards shards = ParameterShards.of(List.of(100, 10, 60, 50, 5), 2);
        // 100 -> rank 0; 60 -> 1; 50 -> 1 (60 < 100); 10 -> 0? loads 100 / 110: 10 -> 0, 5 -> 0 (110 / 110 tie -> 0)
        assertEquals(List.of(0, 0, 1, 1, 0), List.of(shards.owner(0), shards.owner(1), shards.owner(2), shards.owner(3),
                shards.owner(4)));
        assertEquals(115, shards.elementsOf(0));
        assertEquals(110, shards.elementsOf(1));
        assertEquals(115, shards.largestShare());
    }

    private static Run train(String recipe, GradientExchange exchange, RankEnvironment rank) {
        CpuBackend backend = new CpuBackend(program.model("small").orElseThrow(), program.recipe(recipe).orElseThrow(),
                program.trainings().getFirst(), exchange);
        List<Double> losses = new ArrayList<>();
        for (TrainingBackend.StepOutcome outcome : trainSteps(backend, rank)) {
            assertTrue(outcome.wasApplied(), "a step was skipped: " + outcome.nonFinite());
            losses.add(outcome.loss());
        }
        List<ParameterStore.Entry> entries = backend.parameters().entries();
        return new Run(losses, entries.stream().map(e -> e.master().clone()).toList(),
                entries.stream().map(e -> e.m().clone()).toList(), entries.stream().map(e -> e.v().clone()).toList());
    }

    /** {@link #STEPS} steps of {@code backend} on {@code rank}'s share of the data. */
    private static List<TrainingBackend.StepOutcome> trainSteps(CpuBackend backend, RankEnvironment rank) {
        TrainingSpec spec = program.trainings().getFirst();
        RankBatches batches = new RankBatches(new BatchSampler(data.train(), spec.microBatch(), spec.seqLen(), spec.seed()),
                spec.accumulation(), rank);
        List<TrainingBackend.StepOutcome> outcomes = new ArrayList<>();
        for (int step = 0; step < STEPS; step++) {
            List<Batch> share = new ArrayList<>();
            for (int i = 0; i < batches.share(); i++) {
                share.add(batches.next());
            }
            double lr = spec.schedule().learningRate(spec.optimizer().lr(), step, STEPS);
            outcomes.add(backend.step(share, step + 1, lr));
        }
        return outcomes;
    }

    /** The recipe's kernels, with layer 0's FFN up projection writing a NaN in its forward call number {@code call}. */
    private static GraphInterpreter.LinearPolicy poisoning(RecipeSpec recipe, long call) {
        return PoisonedLinear.policy(new RecipeLinearPolicy(recipe, program.model("small").orElseThrow().config().layers()),
                "layers.0.swiglu.up", c -> c == call);
    }

    /** The largest difference of any element, relative to the wanted element or {@code floor}, whichever is larger. */
    private static double worstRelative(List<float[]> want, List<float[]> got, float floor) {
        double worst = 0;
        for (int p = 0; p < want.size(); p++) {
            for (int i = 0; i < want.get(p).length; i++) {
                float w = want.get(p)[i], g = got.get(p)[i];
                worst = Math.max(worst, Math.abs(w - g) / Math.max(Math.abs(w), floor));
            }
        }
        return worst;
    }
}

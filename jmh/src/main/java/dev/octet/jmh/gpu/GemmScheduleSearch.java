package dev.octet.jmh.gpu;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.gemm.GemmEpilogue;
import dev.octet.compiler.cuda.gemm.GemmKernel;
import dev.octet.compiler.cuda.gemm.GemmKernels;
import dev.octet.compiler.cuda.gemm.GemmOperand;
import dev.octet.compiler.cuda.gemm.GemmProblem;
import dev.octet.compiler.cuda.gemm.OperandLayout;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.dsl.check.ProgramLoader;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.gpu.CompileReport;
import dev.octet.gpu.CudaEvent;
import dev.octet.gpu.CudaStream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures every schedule {@link GemmKernels#candidates} offers for each GEMM problem of the example training
 * steps, and writes the table {@code GemmSchedules} reads (compiler/src/main/resources/.../gemm-schedules-h200.tsv):
 * per problem the fastest schedule, its TFLOP/s, the rule's schedule and its TFLOP/s, and every candidate's. A
 * candidate replaces the rule's schedule only when it is at least {@value #MARGIN_PERCENT}% faster, so that noise
 * between equals does not move the choice, and only when its result, computed on the device from the same operands,
 * agrees with the rule's kernel's within {@link #AGREEMENT} (a candidate that does not is marked wrong in the table and
 * never chosen; the rule's kernels are the ones the GPU tests hold to the CPU oracle). Operands are random codes over
 * E4M3's whole range (as scaling to the amax gives) with power-of-two scales; a split's reduction is timed with its
 * kernel.
 *
 * <pre>java -cp ... dev.octet.jmh.gpu.GemmScheduleSearch [--out FILE] [--threads N] [FILE.octet:RECIPE,RECIPE ...]</pre>
 * Default: the headline steps, qwen2.5-1.5b-cpt and gpt2-124m-pretrain under bf16 and infir2 (scripts/gemm-schedules-remote).
 */
public final class GemmScheduleSearch {
    static final List<String> DEFAULT_STEPS = List.of("qwen2.5-1.5b-cpt.octet:bf16,infir2", "gpt2-124m-pretrain.octet:bf16,infir2");
    static final int MARGIN_PERCENT = 2;
    /**
     * How far a candidate's result may be from the rule's (relative L2, no non-finite value). A schedule changes only
     * the order in which partial sums are added (~1e-7 relative in FP32; a BF16 output may round the odd element the
     * other way, 2^-8 of it); one wrong tile of the largest problems here (~150k tiles) moves the result by more than
     * 2.5e-3, one K block of 128 left out by far more.
     */
    static final double AGREEMENT = 1e-3;
    /** Launches between two events, and how many such trials (the median is kept). */
    static final int LAUNCHES = 10, TRIALS = 5;
    /**
     * The timed launches rotate through copies of the problem's tensors, at most {@value #MAX_COPIES}, until together
     * they hold this many bytes, twice an H100's or H200's L2 (50, 60 MB): in a training step a GEMM's operands are
     * mostly not in L2, and ten launches on one copy of a small problem's would time them there, which favours
     * narrow tiles that read A more often (the FP8 k/v projections' 64-wide tiles: faster here on one copy, slower in
     * the step).
     */
    static final long ROTATION_BYTES = 128L << 20;
    static final int MAX_COPIES = 8;

    private GemmScheduleSearch() {}

    /** One problem of the steps, where it came from, and what the rule picks for it. */
    record Problem(String key, GemmProblem problem, GemmKernel rule, List<String> seenIn) {}

    /** A candidate's measured time, and how far its result is from the rule's on the same operands. */
    record Measured(GemmKernel kernel, double micros, DeviceComparison.Distance distance) {
        double tflops() {
            return kernel.problem().flops() / (micros * 1e-6) / 1e12;
        }

        boolean agrees() {
            return distance.within(AGREEMENT);
        }
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of("gemm-schedules-h200.tsv");
        int threads = Runtime.getRuntime().availableProcessors();
        List<String> steps = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> steps.add(args[i]);
            }
        }
        if (steps.isEmpty()) {
            steps = DEFAULT_STEPS;
        }
        Map<String, Problem> problems = problemsOf(steps);
        GpuBench bench = GpuBench.get();
        List<CudaKernel> kernels = new ArrayList<>();
        Map<String, List<GemmKernel>> candidates = new LinkedHashMap<>();
        for (Problem p : problems.values()) {
            List<GemmKernel> c = new ArrayList<>(GemmKernels.candidates(p.problem()));
            if (!c.contains(p.rule())) {
                c.addFirst(p.rule());  // e.g. a split the rule estimates best and the search's list does not hold
            }
            candidates.put(p.key(), c);
            for (GemmKernel k : c) {
                kernels.add(k.emit());
                if (k.splits() > 1) {
                    kernels.add(k.splitReduction().emit());
                }
            }
        }
        System.out.printf("%d GEMM problems, %d candidate kernels; compiling on %d threads%n", problems.size(), kernels.size(), threads);
        long compileStart = System.nanoTime();
        try {
            CompileReport report = bench.cache().compileAll(kernels, threads);
            System.out.printf("compiled in %.1f s (%d cached)%n", report.wallMillis() / 1e3, report.hits());
        } catch (RuntimeException e) {
            // The others are in the cache; a candidate that does not compile is left out where it is measured.
            System.out.printf("compiled in %.1f s, not every candidate: %s%n", (System.nanoTime() - compileStart) / 1e9, e.getMessage());
        }

        StringBuilder table = new StringBuilder();
        table.append("# GEMM schedules measured on ").append(bench.context().info()).append(", ").append(Instant.now())
                .append(", jars of ").append(commit()).append('\n');
        table.append("# by scripts/gemm-schedules-remote (dev.octet.jmh.gpu.GemmScheduleSearch ").append(String.join(" ", steps))
                .append("): median of ").append(TRIALS).append(" x ").append(LAUNCHES)
                .append(" launches per candidate, rotating copies of the tensors that together exceed ").append(ROTATION_BYTES >> 20)
                .append(" MiB; a candidate")
                .append(" replaces the rule's schedule when ").append(MARGIN_PERCENT).append("% faster\n");
        table.append("# problem\tschedule\tTFLOP/s\trule\trule TFLOP/s\tcandidates (blockN x cluster x splits = TFLOP/s)\tsteps\n");
        for (Problem p : problems.values()) {
            List<Measured> measured = measure(bench, p, candidates.get(p.key()));
            Measured rule = measured.stream().filter(m -> m.kernel().equals(p.rule())).findFirst().orElseThrow();
            // Only a candidate whose result is the rule's may replace it.
            Measured best = measured.stream().filter(Measured::agrees).min(Comparator.comparingDouble(Measured::micros))
                    .orElse(rule);
            Measured chosen = best.micros() * (1 + MARGIN_PERCENT / 100.0) <= rule.micros() ? best : rule;
            StringBuilder all = new StringBuilder();
            for (Measured m : measured) {
                all.append(all.isEmpty() ? "" : " ").append(GemmKernels.schedule(m.kernel()).orElseThrow())
                        .append(String.format(Locale.ROOT, "=%.1f", m.tflops()));
                if (!m.agrees()) {
                    all.append("(wrong: ").append(m.distance()).append(')');
                    System.out.println("  " + m.kernel().kernelName() + " disagrees with the rule's kernel: " + m.distance());
                }
            }
            String row = String.format(Locale.ROOT, "%s\t%s\t%.1f\t%s\t%.1f\t%s\t%s", p.key(),
                    GemmKernels.schedule(chosen.kernel()).orElseThrow(), chosen.tflops(), GemmKernels.schedule(rule.kernel()).orElseThrow(),
                    rule.tflops(), all, String.join(",", p.seenIn()));
            System.out.println(row);
            table.append(row).append('\n');
            // After every problem: a search stopped by a time limit leaves the rows it measured.
            Files.writeString(out, table);
        }
        System.out.println("wrote " + out.toAbsolutePath());
    }

    /** Every distinct Hopper GEMM problem of the steps, in first-seen order. */
    static Map<String, Problem> problemsOf(List<String> steps) {
        Map<String, Problem> problems = new LinkedHashMap<>();
        for (String step : steps) {
            String[] parts = step.split(":");
            if (parts.length != 2) {
                throw new IllegalArgumentException("a step reads FILE.octet:RECIPE[,RECIPE...], not '" + step + "'");
            }
            for (String recipeName : parts[1].split(",")) {
                StepPlan plan = plan(parts[0], recipeName);
                for (Launch l : plan.kernels().launches()) {
                    if (l.spec() instanceof GemmKernel g && GemmKernels.problemKey(g).isPresent()) {
                        String key = GemmKernels.problemKey(g).get();
                        Problem p = problems.computeIfAbsent(key, k -> new Problem(k, g.problem(), GemmKernels.byRule(g.problem()),
                                new ArrayList<>()));
                        String where = parts[0].replace(".octet", "") + "/" + recipeName;
                        if (!p.seenIn().contains(where)) {
                            p.seenIn().add(where);
                        }
                    }
                }
            }
        }
        return problems;
    }

    private static StepPlan plan(String file, String recipeName) {
        Path examples = TrainingStepBenchmark.examples();
        Diagnostics d = new Diagnostics();
        Program p = ProgramLoader.load(List.of(examples.resolve(file), examples.resolve("recipes").resolve(recipeName + ".octet")), d);
        if (d.hasErrors()) {
            throw new IllegalStateException(DiagnosticPrinter.render(d));
        }
        TrainingSpec training = p.trainingsIn(examples.resolve(file).toString()).stream().findFirst()
                .orElseThrow(() -> new IllegalArgumentException(file + " defines no training block"));
        RecipeSpec recipe = p.recipe(recipeName).or(() -> p.recipe(recipeName.replace('-', '_'))).orElseThrow();
        return Lowering.compile(CompileTarget.of(p.model(training.model()).orElseThrow(), recipe, training), Lowering.QUIET);
    }

    /**
     * Each candidate's median time per launch, the launches rotating through the copies of the operands, and the
     * distance of its result (one launch into a zeroed output, copy 0) from the rule kernel's, computed first into
     * {@code reference}.
     */
    private static List<Measured> measure(GpuBench bench, Problem p, List<GemmKernel> candidates) {
        GemmProblem g = p.problem();
        List<Measured> measured = new ArrayList<>();
        DeviceTensors tensors = bench.tensors();
        int copies = operands(tensors, g);
        try (tensors; CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
            CudaStream stream = bench.stream();
            tensors.zeros("reference", g.epilogue().output(), (long) g.m() * g.pitches().c());
            tensors.bindGemm(p.rule(), "reference").forEach(l -> l.queue(stream));
            for (GemmKernel k : candidates) {
                List<List<dev.octet.jmh.gpu.Launch>> rotation = new ArrayList<>();
                try {
                    for (int copy = 0; copy < copies; copy++) {
                        rotation.add(tensors.bindGemmCopy(k, copy));
                    }
                } catch (RuntimeException e) {
                    System.out.println("  left out " + k.kernelName() + ": " + e.getMessage().lines().findFirst().orElse(""));
                    continue;
                }
                tensors.clear("c");
                rotation.getFirst().forEach(l -> l.queue(stream));
                DeviceComparison.Distance distance = tensors.distance("c", "reference");
                double[] trials = new double[TRIALS];
                for (int t = 0; t < TRIALS; t++) {
                    start.record(stream);
                    for (int i = 0; i < LAUNCHES; i++) {
                        rotation.get(i % copies).forEach(l -> l.queue(stream));
                    }
                    end.record(stream);
                    trials[t] = end.millisSince(start) * 1e3 / LAUNCHES;
                }
                Arrays.sort(trials);
                measured.add(new Measured(k, trials[TRIALS / 2], distance));
            }
        }
        return measured;
    }

    /**
     * a, b (with scales), [bias], [residual] and c of {@code g}, as the step lays them out, in as many copies as
     * {@link #ROTATION_BYTES} asks for (copy i > 0 under the names {@code name_i}); returns the number of copies.
     */
    private static int operands(DeviceTensors tensors, GemmProblem g) {
        long bytes = operands(tensors, g, "");
        int copies = (int) Math.clamp(Math.ceilDiv(ROTATION_BYTES, bytes), 1, MAX_COPIES);
        for (int copy = 1; copy < copies; copy++) {
            operands(tensors, g, "_" + copy);
        }
        return copies;
    }

    /** One copy of the tensors of {@code g}, every name followed by {@code suffix}; returns their bytes. */
    private static long operands(DeviceTensors tensors, GemmProblem g, String suffix) {
        long bytes = operand(tensors, "a", suffix, g.a(), g.m(), g.k(), g.pitches().a())
                + operand(tensors, "b", suffix, g.b(), g.n(), g.k(), g.pitches().b());
        GemmEpilogue e = g.epilogue();
        if (e.bias()) {
            tensors.uniform("bias" + suffix, DType.BF16, g.n(), -1f, 1f);
            bytes += GpuBench.bytes(DType.BF16, g.n());
        }
        if (e.residual()) {
            tensors.uniform("residual" + suffix, DType.BF16, (long) g.m() * g.n(), -1f, 1f);
            bytes += GpuBench.bytes(DType.BF16, (long) g.m() * g.n());
        }
        tensors.zeros("c" + suffix, e.output(), (long) g.m() * g.pitches().c());
        return bytes + GpuBench.bytes(e.output(), (long) g.m() * g.pitches().c());
    }

    private static long operand(DeviceTensors tensors, String name, String suffix, GemmOperand operand, int rows, int k, int pitch) {
        return switch (operand) {
            case GemmOperand.Fp8 f -> {
                float max = f.format().maxFinite();
                int scales = f.scaleGrid(rows, k).scaleCount();
                tensors.uniform(name + suffix, f.dtype(), (long) rows * pitch, -max, max)
                        .constant(name + "_scales" + suffix, scales, 0x1p-12f);
                yield GpuBench.bytes(f.dtype(), (long) rows * pitch) + GpuBench.bytes(DType.F32, scales);
            }
            case GemmOperand.Bf16 b -> {
                long lines = b.layout() == OperandLayout.K_MAJOR ? rows : k;
                tensors.uniform(name + suffix, DType.BF16, lines * pitch, -1f, 1f);
                yield GpuBench.bytes(DType.BF16, lines * pitch);
            }
        };
    }

    /** The commit of the jars, as scripts/gpu-tests records it beside them. */
    private static String commit() {
        Path file = Path.of(".gpu/commit");
        try {
            return Files.exists(file) ? Files.readString(file).strip() : "unknown commit";
        } catch (IOException e) {
            return "unknown commit";
        }
    }
}

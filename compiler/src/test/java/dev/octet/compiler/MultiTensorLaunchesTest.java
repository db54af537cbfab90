package dev.octet.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.cuda.MultiTensorKernel;
import dev.octet.compiler.cuda.optim.AdamWStep;
import dev.octet.compiler.cuda.optim.AdamWSteps;
import dev.octet.compiler.cuda.optim.GradNormFinalize;
import dev.octet.compiler.cuda.optim.GradSquareSum;
import dev.octet.compiler.cuda.optim.GradSquareSums;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.passes.Fusion;
import dev.octet.compiler.passes.KernelFormation;
import dev.octet.compiler.passes.MultiTensorLaunches;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.Launch;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.TrainingSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The per-parameter optimizer launches merged into multi-tensor ones: every member bound as its own launch bound it,
 * every buffer read after the same writes and written before the same reads as before, and a launch that reads what
 * a later member writes keeps that member out of the batch.
 */
class MultiTensorLaunchesTest {

    @ParameterizedTest
    @CsvSource({"gpt2-124m-pretrain.octet, infir2", "gpt2-124m-pretrain.octet, bf16", "tiny-data-parallel.octet, infir2",
            "tiny.octet, tensorwise-delayed"})
    void batchesKeepEveryMembersArgumentsAndEveryDependency(String file, String recipe) {
        KernelPlan formed = formed(file, recipe);
        KernelPlan batched = MultiTensorLaunches.run(formed);
        List<Launch> optimizer = batched.launches().stream().filter(l -> l.phase() == Phase.OPTIMIZER).toList();
        long perParameter = formed.launches().stream().filter(l -> l.spec() instanceof MultiTensorKernel).count();
        assertTrue(optimizer.stream().anyMatch(l -> l.spec() instanceof AdamWSteps)
                        && optimizer.stream().anyMatch(l -> l.spec() instanceof GradSquareSums),
                "launches merged: " + optimizer.stream().map(l -> l.kernel().name()).toList());
        // Every launch the pass did not merge is unchanged, in order.
        assertEquals(formed.launches().stream().filter(l -> !(l.spec() instanceof MultiTensorKernel)).map(Launch::kernel).toList(),
                batched.launches().stream().filter(l -> !isBatchOrMember(l)).map(Launch::kernel).toList());

        // Each original member, and the batched launch it went into with its member index.
        Map<Launch, Launch> into = new IdentityHashMap<>();
        Map<Launch, Integer> memberIndex = new IdentityHashMap<>();
        List<Launch> members = formed.launches().stream().filter(l -> l.spec() instanceof MultiTensorKernel).toList();
        Set<Launch> matched = new HashSet<>();
        for (Launch b : batched.launches()) {
            if (b.spec() instanceof MultiTensorKernel) {
                Launch original = members.stream().filter(m -> m.kernel().equals(b.kernel()) && m.args().equals(b.args())
                        && !matched.contains(m)).findFirst().orElseThrow();
                matched.add(original);
                into.put(original, b);
                memberIndex.put(original, -1);
            } else if (b.spec() instanceof AdamWSteps || b.spec() instanceof GradSquareSums) {
                int count = b.spec() instanceof AdamWSteps s ? s.elements().size() : ((GradSquareSums) b.spec()).elements().size();
                for (int i = 0; i < count; i++) {
                    Launch original = memberOf(members, matched, b, i);
                    matched.add(original);
                    into.put(original, b);
                    memberIndex.put(original, i);
                }
            }
        }
        assertEquals(perParameter, matched.size(), "every per-parameter launch is in exactly one launch of the new plan");

        // Where each original launch runs now: its batch, or (renumbered) itself, in order.
        Map<Launch, Launch> image = new IdentityHashMap<>(into);
        List<Launch> left = formed.launches().stream().filter(l -> !(l.spec() instanceof MultiTensorKernel)).toList();
        List<Launch> leftNow = batched.launches().stream().filter(l -> !isBatchOrMember(l)).toList();
        for (int i = 0; i < left.size(); i++) {
            image.put(left.get(i), leftNow.get(i));
        }
        List<Launch> newOrder = batched.launches();
        for (Launch l : formed.launches()) {
            for (Value v : touched(l)) {
                Value s = formed.storageOf(v);
                Launch before = lastWriterBefore(formed.launches(), formed, s, l);
                Launch after = firstWriterAfter(formed.launches(), formed, s, l);
                Launch beforeNow = lastWriterBefore(newOrder, batched, s, image.get(l));
                Launch afterNow = firstWriterAfter(newOrder, batched, s, image.get(l));
                // Members of one batch run at once; their writes to one buffer are to disjoint ranges (slots of the
                // norm's partials), which the pass checks.
                if (before != null && image.get(before) != image.get(l)) {
                    assertEquals(image.get(before), beforeNow, l.kernel().name() + " reads " + v.name()
                            + " as written by the same launch");
                }
                if (after != null && image.get(after) != image.get(l)) {
                    assertEquals(image.get(after), afterNow, l.kernel().name() + " touches " + v.name()
                            + " before the same next write");
                }
                if (before == null) {
                    assertEquals(null, beforeNow, l.kernel().name() + ": nothing writes " + v.name() + " before it");
                }
            }
        }
        if (file.equals("gpt2-124m-pretrain.octet")) {
            assertTrue(optimizer.size() <= 12, "GPT-2's optimizer in at most 12 launches (196 parameters): " + optimizer.size());
        }
    }

    @Test
    void aLaunchBetweenTwoUpdatesThatReadsTheSecondsWeightKeepsItOutOfTheFirstsBatch() {
        KernelPlan formed = formed("tiny.octet", "bf16");
        List<Launch> launches = new ArrayList<>(formed.launches());
        int first = -1;
        for (int i = 0; i + 1 < launches.size(); i++) {
            if (launches.get(i).spec() instanceof AdamWStep a && launches.get(i + 1).spec() instanceof AdamWStep b
                    && a.batchKey().equals(b.batchKey())) {
                first = i;
                break;
            }
        }
        assertTrue(first >= 0, "two neighbouring AdamW launches of one kind");
        Launch second = launches.get(first + 1);
        Value secondWeight = ((Argument.Buffer) second.args().getFirst()).value();
        Launch finalize = launches.stream().filter(l -> l.spec() instanceof GradNormFinalize).findFirst().orElseThrow();
        // The norm's finalizer made to read the second update's weight (it is f32, as the partials are).
        List<Argument> args = new ArrayList<>(finalize.args());
        args.set(0, new Argument.Buffer(secondWeight));
        launches.add(first + 1, new Launch(first + 1, finalize.group(), Phase.OPTIMIZER, finalize.spec(), finalize.kernel(), args));
        List<Launch> renumbered = new ArrayList<>();
        for (Launch l : launches) {
            renumbered.add(new Launch(renumbered.size(), l.group(), l.phase(), l.spec(), l.kernel(), l.args()));
        }
        KernelPlan batched = MultiTensorLaunches.run(new KernelPlan(formed.fused(), renumbered, formed.aliases()));
        int reader = -1, writer = -1;
        for (Launch l : batched.launches()) {
            boolean writes = l.writes().contains(secondWeight);
            if (l.spec() instanceof GradNormFinalize && l.reads().contains(secondWeight)) {
                reader = l.index();
            }
            if (writes && (l.spec() instanceof AdamWStep || l.spec() instanceof AdamWSteps)) {
                writer = l.index();
                assertFalse(l.args().contains(launches.get(first).args().getFirst()),
                        "the first update is not in the second's batch");
            }
        }
        assertTrue(reader >= 0 && writer > reader, "the weight is read before it is updated: reader " + reader + ", writer " + writer);
    }

    @Test
    void batchedKernelsNameTheirMembersAndRefuseSingleMembers() {
        GradSquareSum a = new GradSquareSum(768), b = new GradSquareSum(4099);
        GradSquareSums sums = (GradSquareSums) a.batch(List.of(a, b));
        assertEquals(List.of(768, 4099), sums.elements());
        List<String> params = sums.emit().params().stream().map(p -> p.name()).toList();
        assertEquals(List.of("grad_0", "partials_0", "grad_1", "partials_1"), params);
        // Blocks: each member's own grid, one after the other.
        assertEquals(a.partialCount() + b.partialCount(), sums.emit().launch().gridX());
        assertThrows(IllegalArgumentException.class, () -> new GradSquareSums(List.of(768)));
    }

    private static boolean isBatchOrMember(Launch l) {
        return l.spec() instanceof MultiTensorKernel || l.spec() instanceof AdamWSteps || l.spec() instanceof GradSquareSums;
    }

    /** The original launch bound as member {@code i} of batched launch {@code b}. */
    private static Launch memberOf(List<Launch> members, Set<Launch> matched, Launch b, int i) {
        Map<String, Argument> bound = new HashMap<>();
        for (int j = 0; j < b.args().size(); j++) {
            bound.put(b.kernel().params().get(j).name(), b.args().get(j));
        }
        for (Launch m : members) {
            if (matched.contains(m)) {
                continue;
            }
            MultiTensorKernel k = (MultiTensorKernel) m.spec();
            boolean all = true;
            for (int j = 0; j < m.args().size() && all; j++) {
                String name = m.kernel().params().get(j).name();
                String batchedName = k.memberParams().contains(name) ? MultiTensorKernel.memberParam(name, i) : name;
                all = m.args().get(j).equals(bound.get(batchedName));
            }
            if (all) {
                return m;
            }
        }
        throw new AssertionError(b.kernel().name() + ": no original launch bound as its member " + i);
    }

    private static List<Value> touched(Launch l) {
        List<Value> all = new ArrayList<>(l.reads());
        all.addAll(l.writes());
        return all;
    }

    private static Launch lastWriterBefore(List<Launch> order, KernelPlan plan, Value storage, Launch at) {
        Launch found = null;
        for (Launch l : order) {
            if (l == at) {
                return found;
            }
            if (l.writes().stream().anyMatch(v -> plan.storageOf(v).equals(storage))) {
                found = l;
            }
        }
        throw new AssertionError("launch not in the plan");
    }

    private static Launch firstWriterAfter(List<Launch> order, KernelPlan plan, Value storage, Launch at) {
        boolean past = false;
        for (Launch l : order) {
            if (past && l.writes().stream().anyMatch(v -> plan.storageOf(v).equals(storage))) {
                return l;
            }
            past |= l == at;
        }
        return null;
    }

    private static KernelPlan formed(String file, String recipe) {
        Program p = ExamplePrograms.loadWithRecipe(file, recipe);
        TrainingSpec t = ExamplePrograms.training(p, file);
        CompileTarget target = CompileTarget.of(p.model(t.model()).orElseThrow(), ExamplePrograms.recipe(p, recipe), t);
        return KernelFormation.run(Fusion.run(Lowering.trainingGraph(target, Lowering.QUIET)));
    }
}

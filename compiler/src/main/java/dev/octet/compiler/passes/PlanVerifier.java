package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.MemoryPlan;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Invariants of a planned step, checked after memory planning: every transient is written before any
 * launch reads it, and no two transients whose live ranges intersect share a byte of the arena.
 * Violations are compiler bugs; the message names the buffers and launches involved.
 */
public final class PlanVerifier {
    private PlanVerifier() {}

    public static List<String> violations(KernelPlan plan, MemoryPlan memory) {
        List<String> problems = new ArrayList<>();
        Set<Value> written = new HashSet<>();
        for (Launch l : plan.launches()) {
            for (Value v : l.reads()) {
                Value s = plan.storageOf(v);
                if (s.storage() == Storage.TRANSIENT && !written.contains(s)) {
                    problems.add("launch " + l.index() + " (" + l.kernel().name() + ") reads " + v + " before any launch writes it");
                }
            }
            for (Value v : l.writes()) {
                written.add(plan.storageOf(v));
            }
        }
        List<MemoryPlanning.LiveRange> ranges = MemoryPlanning.liveRanges(plan);
        for (int i = 0; i < ranges.size(); i++) {
            for (int j = i + 1; j < ranges.size(); j++) {
                MemoryPlanning.LiveRange a = ranges.get(i);
                MemoryPlanning.LiveRange b = ranges.get(j);
                if (!a.overlaps(b)) {
                    continue;
                }
                long a0 = memory.offset(a.value());
                long b0 = memory.offset(b.value());
                if (a0 < b0 + b.value().type().bytes() && b0 < a0 + a.value().type().bytes()) {
                    problems.add(a.value() + " and " + b.value() + " are live together (launches " + a.first() + "-"
                            + a.last() + ", " + b.first() + "-" + b.last() + ") but overlap in the arena");
                }
            }
        }
        for (Value v : plan.buffers()) {
            long o = memory.offset(v);
            if (o < 0 || o + v.type().bytes() > memory.arenaBytes()) {
                problems.add(v + " lies outside the arena");
            }
        }
        return problems;
    }
}

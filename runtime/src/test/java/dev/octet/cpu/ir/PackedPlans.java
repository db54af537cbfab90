package dev.octet.cpu.ir;

import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.FusionGroup;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.MemoryPlan;
import dev.octet.compiler.plan.StepPlan;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A step plan for a fused graph without kernels: persistent values packed first, then every transient that
 * leaves its group placed at the lowest offset no value live in an overlapping span of groups holds. Enough
 * to run the plan executor over a reused arena before the compiler forms kernels.
 */
final class PackedPlans {
    private PackedPlans() {}

    static StepPlan of(FusedGraph fused) {
        Set<Value> internal = fused.internalValues();
        Map<Value, int[]> span = new LinkedHashMap<>();
        List<FusionGroup> groups = fused.groups();
        for (int g = 0; g < groups.size(); g++) {
            for (Node n : groups.get(g).nodes()) {
                List<Value> touched = new ArrayList<>(n.inputs());
                touched.addAll(n.outputs());
                for (Value v : touched) {
                    if (!internal.contains(v)) {
                        int at = g;
                        span.computeIfAbsent(v, k -> new int[] {at, at})[1] = at;
                    }
                }
            }
        }
        Map<Value, Long> offsets = new HashMap<>();
        long end = 0;
        for (Value v : span.keySet()) {
            if (v.storage() != Storage.TRANSIENT) {
                offsets.put(v, end);
                end = align(end + v.type().bytes());
            }
        }
        long persistent = end;
        List<Value> placed = new ArrayList<>();
        long high = persistent;
        for (Map.Entry<Value, int[]> e : span.entrySet()) {
            Value v = e.getKey();
            if (v.storage() != Storage.TRANSIENT) {
                continue;
            }
            long at = persistent;
            boolean moved = true;
            while (moved) {
                moved = false;
                for (Value p : placed) {
                    int[] a = e.getValue(), b = span.get(p);
                    long o = offsets.get(p);
                    boolean liveTogether = a[0] <= b[1] && b[0] <= a[1];
                    if (liveTogether && at < o + p.type().bytes() && o < at + v.type().bytes()) {
                        at = align(o + p.type().bytes());
                        moved = true;
                    }
                }
            }
            offsets.put(v, at);
            placed.add(v);
            high = Math.max(high, at + v.type().bytes());
        }
        Map<Phase, Long> peaks = new EnumMap<>(Phase.class);
        MemoryPlan memory = new MemoryPlan(offsets, persistent, align(high), peaks, 0);
        return new StepPlan(new KernelPlan(fused, List.of(), Map.of()), memory, 0);
    }

    private static long align(long n) {
        return (n + 255) / 256 * 256;
    }
}

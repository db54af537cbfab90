package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.MemoryPlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Places every buffer of a kernel plan in one arena. Persistent values get fixed places first, grouped by
 * storage (all masters together, all gradients together, ...). Each transient is live from the first launch
 * that touches it to the last; transients are placed largest first at the lowest 256-byte aligned offset
 * that overlaps no placed transient whose live range intersects its own (greedy by size). Liveness spans
 * forward, backward and optimizer, so activations saved for backward stay live exactly as long as needed.
 */
public final class MemoryPlanning {
    public static final String NAME = "memory";
    public static final long ALIGNMENT = 256;

    private MemoryPlanning() {}

    /** A transient's live range, in launch indices, inclusive. */
    public record LiveRange(Value value, int first, int last) {
        boolean overlaps(LiveRange o) {
            return first <= o.last && o.first <= last;
        }
    }

    public static MemoryPlan run(KernelPlan plan) {
        Map<Value, Long> offsets = new LinkedHashMap<>();
        long persistent = 0;
        for (Storage s : Storage.values()) {
            if (!s.persistent()) {
                continue;
            }
            for (Value v : plan.buffers()) {
                if (v.storage() == s) {
                    offsets.put(v, persistent);
                    persistent = align(persistent + v.type().bytes());
                }
            }
        }
        List<LiveRange> ranges = liveRanges(plan);
        List<LiveRange> bySize = new ArrayList<>(ranges);
        bySize.sort(Comparator.comparingLong((LiveRange r) -> -r.value().type().bytes())
                .thenComparingInt(LiveRange::first).thenComparingInt(r -> r.value().id()));
        List<LiveRange> placed = new ArrayList<>();
        Map<Value, Long> transientOffsets = new HashMap<>();
        long high = 0;
        long withoutReuse = 0;
        for (LiveRange r : bySize) {
            long size = r.value().type().bytes();
            withoutReuse += align(size);
            List<long[]> busy = new ArrayList<>();
            for (LiveRange p : placed) {
                if (p.overlaps(r)) {
                    long o = transientOffsets.get(p.value());
                    busy.add(new long[] {o, o + p.value().type().bytes()});
                }
            }
            busy.sort(Comparator.comparingLong(b -> b[0]));
            long at = 0;
            for (long[] b : busy) {
                if (at + size <= b[0]) {
                    break;
                }
                at = Math.max(at, align(b[1]));
            }
            transientOffsets.put(r.value(), at);
            placed.add(r);
            high = Math.max(high, at + size);
        }
        long base = persistent;
        transientOffsets.forEach((v, o) -> offsets.put(v, base + o));
        for (Map.Entry<Value, Value> alias : plan.aliases().entrySet()) {
            offsets.put(alias.getKey(), offsets.get(plan.storageOf(alias.getKey())));
        }
        return new MemoryPlan(offsets, persistent, align(persistent + high), peaks(plan, ranges, persistent), withoutReuse);
    }

    /** Live ranges of every transient buffer (aliases folded into the buffer they share). */
    public static List<LiveRange> liveRanges(KernelPlan plan) {
        Map<Value, int[]> span = new LinkedHashMap<>();
        for (Launch l : plan.launches()) {
            for (Argument a : l.args()) {
                if (a instanceof Argument.Buffer b) {
                    Value v = plan.storageOf(b.value());
                    if (v.storage() == Storage.TRANSIENT) {
                        int[] s = span.computeIfAbsent(v, k -> new int[] {l.index(), l.index()});
                        s[1] = l.index();
                    }
                }
            }
        }
        List<LiveRange> out = new ArrayList<>();
        span.forEach((v, s) -> out.add(new LiveRange(v, s[0], s[1])));
        return out;
    }

    private static Map<Phase, Long> peaks(KernelPlan plan, List<LiveRange> ranges, long persistent) {
        Map<Phase, Long> peak = new EnumMap<>(Phase.class);
        for (Launch l : plan.launches()) {
            long live = 0;
            for (LiveRange r : ranges) {
                if (r.first() <= l.index() && l.index() <= r.last()) {
                    live += r.value().type().bytes();
                }
            }
            peak.merge(l.phase(), persistent + live, Math::max);
        }
        return peak;
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }
}

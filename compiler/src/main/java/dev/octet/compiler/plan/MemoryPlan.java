package dev.octet.compiler.plan;

import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Value;
import java.util.Map;

/**
 * Where every buffer lives in the one device arena: persistent values (parameters, working copies,
 * gradients, optimizer states, host inputs and outputs) first, then transients at offsets reused by
 * liveness. {@code peakBytes} per phase counts the persistent region plus the largest sum of live
 * transients during that phase; {@code arenaBytes} is the high-water mark of the placement.
 */
public record MemoryPlan(Map<Value, Long> offsets, long persistentBytes, long arenaBytes, Map<Phase, Long> peakBytes,
                         long transientBytesWithoutReuse) {
    public MemoryPlan {
        offsets = Map.copyOf(offsets);
        peakBytes = Map.copyOf(peakBytes);
    }

    public long offset(Value v) {
        Long o = offsets.get(v);
        if (o == null) {
            throw new IllegalArgumentException("no place planned for " + v);
        }
        return o;
    }
}

package dev.octet.compiler.plan;

import dev.octet.compiler.ir.FusedGraph;
import dev.octet.compiler.ir.Value;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The step as launches, in order. {@code aliases} maps a value to the buffer it shares because a kernel
 * writes it in place over another (dlogits over logits).
 */
public record KernelPlan(FusedGraph fused, List<Launch> launches, Map<Value, Value> aliases) {
    public KernelPlan {
        launches = List.copyOf(launches);
        aliases = Map.copyOf(aliases);
    }

    /** The value whose buffer holds {@code v}. */
    public Value storageOf(Value v) {
        Value s = v;
        while (aliases.containsKey(s)) {
            s = aliases.get(s);
        }
        return s;
    }

    /** Every buffer some launch touches, in order of first use. */
    public List<Value> buffers() {
        Set<Value> all = new LinkedHashSet<>();
        for (Launch l : launches) {
            for (Argument a : l.args()) {
                if (a instanceof Argument.Buffer b) {
                    all.add(storageOf(b.value()));
                }
            }
        }
        return List.copyOf(all);
    }

    /** Every buffer some launch touches and every value a launch binds (an alias as well as its storage), by name. */
    public Map<String, Value> valuesByName() {
        Map<String, Value> byName = new LinkedHashMap<>();
        buffers().forEach(v -> byName.put(v.name(), v));
        for (Launch l : launches) {
            for (Argument a : l.args()) {
                if (a instanceof Argument.Buffer b) {
                    byName.putIfAbsent(b.value().name(), b.value());
                }
            }
        }
        return byName;
    }
}

package dev.octet.compiler.ir;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A trainable tensor and the persistent values that serve it: the FP32 master, the BF16 working copy the
 * BF16 kernels read (absent where every reader quantizes the master instead: {@code passes/WeightsFromMasters}),
 * the FP32 gradient, and the two AdamW moments.
 */
public record Parameter(String name, Value master, Optional<Value> shadow, Value gradient, Value m, Value v,
                        boolean decays) {

    public Parameter {
        Objects.requireNonNull(shadow, "shadow");
    }

    /** The same parameter without its working copy. */
    public Parameter withoutShadow() {
        return new Parameter(name, master, Optional.empty(), gradient, m, v, decays);
    }

    /** Master, working copy (if any), gradient, m, v. */
    public List<Value> values() {
        List<Value> all = new ArrayList<>(List.of(master));
        shadow.ifPresent(all::add);
        all.addAll(List.of(gradient, m, v));
        return all;
    }
}

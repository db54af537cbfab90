package dev.octet.cpu.exec;

import dev.octet.cpu.ops.Rounding;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.numerics.InitialWeights;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's trainable tensors: FP32 master weights and AdamW moments (as the recipe keeps them), the
 * working copy the forward pass reads (BF16-rounded under {@link Rounding#GPU}, as the GPU's weight copy
 * is), and FP64 gradient accumulators that several micro-batches and tied uses add into.
 */
public final class ParameterStore {
    /** One tensor and its training state. */
    public static final class Entry {
        private final ParameterTable.Param param;
        private final float[] master;
        private final double[] working;
        private final double[] grad;
        private final float[] m;
        private final float[] v;

        private Entry(ParameterTable.Param param, float[] master) {
            this.param = param;
            this.master = master;
            this.working = new double[master.length];
            this.grad = new double[master.length];
            this.m = new float[master.length];
            this.v = new float[master.length];
        }

        public ParameterTable.Param param() {
            return param;
        }

        public float[] master() {
            return master;
        }

        public double[] working() {
            return working;
        }

        public double[] grad() {
            return grad;
        }

        public float[] m() {
            return m;
        }

        public float[] v() {
            return v;
        }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private ParameterStore() {}

    /** The initial weights {@link InitialWeights} defines for {@code seed} (the GPU computes the same on the device). */
    public static ParameterStore initialize(ModelSpec model, long seed) {
        ParameterStore store = new ParameterStore();
        for (InitialWeights.Initial init : InitialWeights.of(model)) {
            store.entries.put(init.param().name(), new Entry(init.param(), InitialWeights.values(seed, init)));
        }
        return store;
    }

    /** Every parameter zero, for weights that are loaded next (an import, {@code --init}, an export). */
    public static ParameterStore zeros(ModelSpec model) {
        ParameterStore store = new ParameterStore();
        for (ParameterTable.Param p : ParameterTable.of(model).params()) {
            store.entries.put(p.name(), new Entry(p, new float[Math.toIntExact(p.size())]));
        }
        return store;
    }

    public Entry get(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return e;
    }

    public List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    /** Copies master weights into the working copy the forward pass reads. */
    public void refreshWorking(Rounding rounding) {
        for (Entry e : entries.values()) {
            for (int i = 0; i < e.master.length; i++) {
                e.working[i] = rounding.apply(e.master[i]);
            }
        }
    }

    public void zeroGrads() {
        for (Entry e : entries.values()) {
            java.util.Arrays.fill(e.grad, 0);
        }
    }
}

package dev.octet.cpu.ir;

import dev.octet.compiler.ir.Value;
import java.util.HashMap;
import java.util.Map;

/** Every value in its own array, rounded to its element type on the way in: the unplanned reference. */
final class ValueBuffers implements Buffers {
    private final Map<Value, double[]> contents = new HashMap<>();

    @Override
    public double[] get(Value v) {
        double[] c = contents.get(v);
        if (c == null) {
            throw new IllegalStateException(v + " is read before anything wrote it");
        }
        return c.clone();
    }

    @Override
    public void put(Value v, double[] values) {
        contents.put(v, stored(v, values));
    }

    static double[] stored(Value v, double[] values) {
        if (values.length != v.type().elements()) {
            throw new IllegalArgumentException(v.declaration() + " written with " + values.length + " elements");
        }
        double[] s = new double[values.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = ElementCodec.stored(v.type().dtype(), values[i]);
        }
        return s;
    }
}

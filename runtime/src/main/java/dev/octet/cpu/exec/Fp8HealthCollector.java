package dev.octet.cpu.exec;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.QuantizationHealth;
import dev.octet.numerics.QuantizedMatrix;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gathers {@link QuantizationHealth} from the FP8 linear kernels while armed. Measuring dequantizes every
 * operand, so the trainer arms it only on the steps it logs health for; disarmed, a kernel pays one check.
 * Quantizations of the same operand within a step (micro-batches) merge into one entry.
 */
public final class Fp8HealthCollector {
    private record Key(String layer, Gemm gemm, Role operand) {}

    private final Map<Key, QuantizationHealth> measured = new LinkedHashMap<>();
    private boolean armed;

    /** Starts measuring: every FP8 quantization from now until {@link #finish} is recorded. */
    public synchronized void arm() {
        armed = true;
        measured.clear();
    }

    public synchronized boolean armed() {
        return armed;
    }

    synchronized void record(String layer, Gemm gemm, Role operand, float[] input, QuantizedMatrix quantized) {
        if (armed) {
            measured.merge(new Key(layer, gemm, operand), QuantizationHealth.measure(input, quantized),
                    QuantizationHealth::merge);
        }
    }

    /** Stops measuring and returns what was measured since {@link #arm}, in the order first seen. */
    public synchronized List<Fp8TensorHealth> finish() {
        armed = false;
        List<Fp8TensorHealth> out = new ArrayList<>(measured.size());
        measured.forEach((k, h) -> out.add(new Fp8TensorHealth(k.layer(), k.gemm(), k.operand(), h)));
        measured.clear();
        return List.copyOf(out);
    }
}

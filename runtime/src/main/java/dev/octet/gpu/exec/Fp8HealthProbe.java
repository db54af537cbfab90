package dev.octet.gpu.exec;

import dev.octet.compiler.ir.DType;
import dev.octet.compiler.ir.Node;
import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.QuantizedSource;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.passes.QuantizeFromInputs;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.Fp8TensorHealth;
import dev.octet.cpu.ir.Recomputation;
import dev.octet.numerics.Bf16;
import dev.octet.numerics.QuantizationHealth;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Semaphore;

/**
 * FP8 health of the compiled step, measured on the host: after each launch that writes a quantization's codes
 * (a quantize kernel, or a norm or activation kernel with the quantization fused in), the source tensor, the
 * codes and the scales of its first rows (at most {@link #SAMPLE_ELEMENTS} elements, whole scale tiles) are read
 * back and compared as the CPU compares them. They are read right after that
 * launch because a transient's arena place is reused by later launches. Quantizations of the same operand
 * within a step (micro-batches) merge into one entry, as the CPU's collector merges them.
 *
 * <p>The read-backs wait for the stream; the comparisons run on the common fork-join pool while the launches go
 * on, at most {@link #IN_FLIGHT} at once (each holds its sample), and {@link #finish} merges them in launch
 * order, so the result does not depend on which comparison ends first.
 *
 * <p>A quantization that recomputes its tensor from the producer's inputs ({@link QuantizedSource}) is measured
 * against the same recomputation on the host, from those inputs as the device holds them.
 *
 * <p>A weight quantized once per step (WeightsQuantizedPerStep) is measured where the optimizer quantizes it,
 * after the update: the codes the next step's micro-batches read.
 *
 * <p>A quantization whose source never reaches the arena (written and read only inside one fused kernel) has
 * nothing to compare against and is not measured.
 */
public final class Fp8HealthProbe {
    /**
     * Elements of each quantization measured: its first rows of whole scale tiles up to this many (all of the
     * tiny model's). Bounds a health step's host work for large steps (Qwen2.5-1.5B at 2 × 8192 quantizes ~30G
     * elements a step; at 2^20 elements each its 924 quantizations took 28 s), at the price of measuring the
     * leading tokens or channels only.
     */
    static final long SAMPLE_ELEMENTS = 1L << 18;

    /** Comparisons queued or running at once: enough to keep the pool busy, few samples held. */
    static final int IN_FLIGHT = 2 * Runtime.getRuntime().availableProcessors();

    private final Map<Integer, List<QuantizedOperand>> byLaunch;
    private final List<Pending> pending = new ArrayList<>();
    private final Semaphore slots = new Semaphore(IN_FLIGHT);
    private final Map<QuantizedOperand.Use, QuantizationHealth> measured = new LinkedHashMap<>();

    private Fp8HealthProbe(Map<Integer, List<QuantizedOperand>> byLaunch) {
        this.byLaunch = byLaunch;
    }

    /**
     * The quantizations of {@code plan}'s forward and backward, and the optimizer's of weights, each at the launch
     * that finishes its codes.
     */
    public static Fp8HealthProbe of(StepPlan plan) {
        Map<Value, List<QuantizedOperand.Use>> uses = new HashMap<>();
        for (Node n : plan.kernels().fused().graph().nodes()) {
            if (n.op() instanceof Operator.MatMul mm && mm.fp8().isPresent()) {
                // FP8 GEMM inputs: a codes, a scales, b codes, b scales, then bias and residual.
                for (int operand = 0; operand < 2; operand++) {
                    uses.computeIfAbsent(n.inputs().get(2 * operand), v -> new ArrayList<>())
                            .add(new QuantizedOperand.Use(mm.linear(), mm.gemm(), mm.gemm().operands().get(operand)));
                }
            }
        }
        List<Launch> launches = plan.kernels().launches();
        Map<Value, Node> producers = plan.kernels().fused().graph().producers();
        Map<Integer, List<QuantizedOperand>> byLaunch = new LinkedHashMap<>();
        for (Node n : plan.kernels().fused().graph().nodes()) {
            if (!(n.op() instanceof Operator.Quantize q)
                    || (n.phase() == Phase.OPTIMIZER && !n.writesWeightCodes())) {
                continue;
            }
            List<Value> sources = n.inputs().subList(0, q.source().inputs().size());
            Value codes = n.outputs().get(0);
            Value scales = n.outputs().get(1);
            Node producer = producers.get(sources.getFirst());
            if (q.source() == QuantizedSource.STORED && !inArena(plan, sources.getFirst()) && producer != null) {
                // Written and read only inside its producer's kernel: measured against the producer's recomputation.
                Optional<QuantizeFromInputs.Recomputable> from = QuantizeFromInputs.recomputable(producer);
                if (from.isPresent()) {
                    q = q.recomputing(from.get().source());
                    sources = from.get().inputs();
                }
            }
            List<QuantizedOperand.Use> readers = uses.getOrDefault(codes, List.of());
            if (readers.isEmpty() || !sources.stream().allMatch(s -> inArena(plan, s))) {
                continue;
            }
            int writer = -1;
            for (Launch l : launches) {
                if (l.writes().contains(codes)) {
                    writer = l.index();
                }
            }
            if (writer < 0) {
                throw new IllegalArgumentException("no launch of the step writes " + codes);
            }
            byLaunch.computeIfAbsent(writer, i -> new ArrayList<>())
                    .add(new QuantizedOperand(q, sources, codes, scales, readers));
        }
        byLaunch.replaceAll((i, ops) -> List.copyOf(ops));
        return new Fp8HealthProbe(byLaunch);
    }

    private static boolean inArena(StepPlan plan, Value v) {
        return plan.memory().offsets().containsKey(plan.kernels().storageOf(v));
    }

    /** The quantizations whose codes {@code launch} finishes writing; empty for every other launch. */
    public List<QuantizedOperand> after(Launch launch) {
        return byLaunch.getOrDefault(launch.index(), List.of());
    }

    /** Every quantization measured, in launch order. */
    public List<QuantizedOperand> operands() {
        return byLaunch.values().stream().flatMap(List::stream).toList();
    }

    /**
     * Reads back what {@code launch} quantized and queues the comparison; called once the launch is queued
     * (the reads wait for it).
     */
    public void measureAfter(Launch launch, DeviceStep device) {
        for (QuantizedOperand op : after(launch)) {
            int rows = op.sampleRows(SAMPLE_ELEMENTS);
            int cols = op.quantize().cols();
            List<byte[]> sources = new ArrayList<>();
            for (int i = 0; i < op.sources().size(); i++) {
                sources.add(sample(device, op, i, rows));
            }
            byte[] codes = device.readPrefix(op.codes(), (long) rows * cols);
            float[] scales = floats(device.readPrefix(op.scales(), (long) op.sampleScales(rows) * Float.BYTES));
            slots.acquireUninterruptibly();
            pending.add(new Pending(op, CompletableFuture.supplyAsync(() -> {
                try {
                    return op.measure(sourceSample(op, sources, rows), codes, scales, rows);
                } finally {
                    slots.release();
                }
            }, ForkJoinPool.commonPool())));
        }
    }

    /**
     * What input {@code i} of {@code op} contributes to the quantized layout's first {@code rows} rows. The quantized
     * tensor is [tokens, width] as stored; its quantized layout is itself, or its transpose, whose first rows are the
     * tensor's first columns. Per-element inputs are read like the tensor, per-token statistics whole or their
     * prefix, per-column weights their prefix or whole.
     */
    private static byte[] sample(DeviceStep device, QuantizedOperand op, int i, int rows) {
        Operator.Quantize q = op.quantize();
        Value v = op.sources().get(i);
        int bytes = v.type().dtype().bytes();
        int tokens = q.transpose() ? q.cols() : q.rows();
        int width = q.transpose() ? q.rows() : q.cols();
        return switch (q.source().kind(i)) {
            case ELEMENT -> q.transpose() ? device.readColumns(v, tokens, width, rows)
                    : device.readPrefix(v, (long) rows * width * bytes);
            case ROW -> device.readPrefix(v, (long) (q.transpose() ? tokens : rows) * bytes);
            case COLUMN -> device.readPrefix(v, (long) (q.transpose() ? rows : width) * bytes);
        };
    }

    /** The sampled tensor, as read, or recomputed from its producer's sampled inputs. */
    private static float[] sourceSample(QuantizedOperand op, List<byte[]> sources, int rows) {
        double[][] in = new double[sources.size()][];
        for (int i = 0; i < in.length; i++) {
            float[] f = op.sources().get(i).type().dtype() == DType.BF16 ? bf16s(sources.get(i)) : floats(sources.get(i));
            if (op.quantize().source() == QuantizedSource.STORED) {
                return f;
            }
            in[i] = new double[f.length];
            for (int k = 0; k < f.length; k++) {
                in[i][k] = f[k];
            }
        }
        Operator.Quantize q = op.quantize();
        int tokens = q.transpose() ? q.cols() : rows;
        int width = q.transpose() ? rows : q.cols();
        double[] y = Recomputation.of(q.source(), in, tokens, width);
        float[] out = new float[y.length];
        for (int k = 0; k < y.length; k++) {
            out[k] = (float) y[k];
        }
        return out;
    }

    /** Records one measurement of {@code op} for every GEMM operand it feeds. */
    public void record(QuantizedOperand op, QuantizationHealth health) {
        for (QuantizedOperand.Use use : op.uses()) {
            measured.merge(use, health, QuantizationHealth::merge);
        }
    }

    /** What was measured since the last call, one entry per GEMM operand in the order first measured. */
    public List<Fp8TensorHealth> finish() {
        pending.forEach(p -> record(p.op(), p.health().join()));
        pending.clear();
        List<Fp8TensorHealth> out = new ArrayList<>(measured.size());
        measured.forEach((u, h) -> out.add(new Fp8TensorHealth(u.layer(), u.gemm(), u.role(), h)));
        measured.clear();
        return List.copyOf(out);
    }

    /** A comparison queued by {@link #measureAfter}, recorded by {@link #finish} in launch order. */
    private record Pending(QuantizedOperand op, CompletableFuture<QuantizationHealth> health) {}

    private static float[] bf16s(byte[] littleEndian) {
        ByteBuffer b = ByteBuffer.wrap(littleEndian).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[littleEndian.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = Bf16.decode(b.getShort(2 * i));
        }
        return out;
    }

    private static float[] floats(byte[] littleEndian) {
        float[] out = new float[littleEndian.length / 4];
        ByteBuffer.wrap(littleEndian).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}

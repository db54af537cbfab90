package dev.octet.checkpoint;

import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ParameterTable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * A model's FP32 master weights as a safetensors file under Octet's parameter names: what {@code octet import hf}
 * writes and {@code octet train --init} reads. A training checkpoint holds the same tensors (plus optimizer and
 * FP8 state, which loading skips), so it serves as well.
 */
public final class MasterWeights {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final List<String> STATE_PREFIXES = List.of(TensorNames.ADAM_M, TensorNames.ADAM_V, "fp8.");

    private MasterWeights() {}

    /** Writes every parameter of {@code params} as F32, atomically. */
    public static void write(Path file, ParameterStore params, Map<String, String> metadata) throws IOException {
        SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (ParameterStore.Entry e : params.entries()) {
            long[] shape = e.param().shape().stream().mapToLong(Integer::longValue).toArray();
            tensors.put(TensorNames.master(e.param().name()), Tensor.f32(e.master(), shape));
        }
        AtomicFile.write(file, out -> SafetensorsWriter.write(out, metadata, tensors));
    }

    /**
     * Overwrites the master weights of {@code params} with the file's, matched by name, each shape checked.
     * A tensor the model lacks, or a parameter the file lacks, is refused: the file belongs to another model.
     */
    public static void load(Path file, ParameterStore params) throws IOException {
        try (TensorReader f = TensorReader.open(file)) {
            load(f, params);
        }
    }

    /** As {@link #load(Path, ParameterStore)}, from a file already open (a checkpoint whose metadata was read). */
    public static void load(TensorReader f, ParameterStore params) throws IOException {
        Map<String, ParameterStore.Entry> entries = new LinkedHashMap<>();
        params.entries().forEach(e -> entries.put(e.param().name(), e));
        load(f, params.entries().stream().map(ParameterStore.Entry::param).toList(), (param, values) ->
                MemorySegment.copy(values, F32, 0, entries.get(param.name()).master(), 0, Math.toIntExact(param.size())));
    }

    /**
     * Every parameter's master weights, handed to a sink one parameter at a time: from a file, a parameter store
     * or the seed, so that a consumer on the device never needs them all on the host at once.
     */
    @FunctionalInterface
    public interface Source {
        void each(Sink sink) throws IOException;

        /** The masters of {@code params}, as segments over its arrays (native order: little-endian on Octet's hosts). */
        static Source of(ParameterStore params) {
            return sink -> {
                for (ParameterStore.Entry e : params.entries()) {
                    sink.accept(e.param(), MemorySegment.ofArray(e.master()));
                }
            };
        }
    }

    /** Where the master weights of a file go: a host array or a device buffer. */
    @FunctionalInterface
    public interface Sink {
        /** {@code values}: the parameter's little-endian F32 weights in the file, shape checked, every value finite. */
        void accept(ParameterTable.Param param, MemorySegment values) throws IOException;
    }

    /**
     * Hands the master weights of {@code params} in {@code f} to {@code sink}, matched by name, each shape and
     * type checked and every value finite. A tensor the model lacks, or a parameter the file lacks, is refused:
     * the file belongs to another model.
     */
    public static void load(TensorReader f, List<ParameterTable.Param> params, Sink sink) throws IOException {
        Path file = f.path();
        Map<String, ParameterTable.Param> wanted = new LinkedHashMap<>();
        params.forEach(p -> wanted.put(TensorNames.master(p.name()), p));
        for (String name : f.names()) {
            if (!wanted.containsKey(name) && STATE_PREFIXES.stream().noneMatch(name::startsWith)) {
                throw new CheckpointException(file, "holds tensor " + name + ", which is not a parameter of this model");
            }
        }
        for (Map.Entry<String, ParameterTable.Param> w : wanted.entrySet()) {
            String name = w.getKey();
            List<Long> shape = w.getValue().shape().stream().map(Integer::longValue).toList();
            TensorInfo info = f.find(name).orElseThrow(() -> new CheckpointException(file,
                    "has no tensor " + name + " (" + shape + ") that the model needs"));
            if (!info.shape().equals(shape)) {
                throw new CheckpointException(file, "tensor " + name + " has shape " + info.shape()
                        + ", the model needs " + shape);
            }
            if (info.dtype() != DType.F32) {
                throw new CheckpointException(file, "tensor " + name + " is " + info.dtype() + ", expected F32 master weights");
            }
            MemorySegment values = f.segment(name);
            FiniteValues.require(file, name, values);
            sink.accept(w.getValue(), values);
        }
    }
}

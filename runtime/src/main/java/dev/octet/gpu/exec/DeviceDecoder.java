package dev.octet.gpu.exec;

import dev.octet.checkpoint.MasterWeights;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepBuffer;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.decode.DecodeStep;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CudaContext;
import dev.octet.gpu.CudaGraph;
import dev.octet.gpu.CudaStream;
import dev.octet.gpu.DeviceBuffer;
import dev.octet.gpu.KernelArg;
import dev.octet.gpu.KernelCompiler;
import dev.octet.gpu.NvrtcCompilers;
import dev.octet.numerics.Bf16;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The compiled decoding step ({@code Lowering.compileDecode}) on a CUDA device: one arena with the BF16
 * working weights, their FP8 codes (quantized once, at load), every layer's key/value caches and the step's
 * transients; the step's other launches captured once as a CUDA graph. A step copies the slots' tokens and positions in, replays the graph and reads the
 * logits back: one host wait per generated token of every slot.
 */
public final class DeviceDecoder implements DecodeStep {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final CudaContext context;
    private final ArenaLayout layout;
    private final LoadedKernels kernels;
    private final DeviceBuffer arena;
    private final CudaStream stream;
    private final CudaGraph graph;
    private final int slots;
    private final int contextLength;
    private final int vocab;
    private final Value tokens;
    private final Value positions;
    private final Value logits;
    /** Whether {@link #close} also releases the context: it was opened for this decoder alone. */
    private boolean ownsContext;

    private DeviceDecoder(CudaContext context, ArenaLayout layout, LoadedKernels kernels, DeviceBuffer arena,
                          CudaStream stream, CudaGraph graph) {
        this.context = context;
        this.layout = layout;
        this.kernels = kernels;
        this.arena = arena;
        this.stream = stream;
        this.graph = graph;
        this.tokens = required(layout, StepBuffer.TOKENS);
        this.positions = required(layout, StepBuffer.POSITIONS);
        this.logits = required(layout, StepBuffer.LOGITS);
        this.slots = logits.type().dim(0);
        this.vocab = logits.type().dim(1);
        this.contextLength = layout.values(Storage.KV_CACHE).getFirst().type().dim(1);
    }

    /**
     * Opens device 0 and loads the decoding step of {@code model} under {@code recipe} for {@code slots}
     * sequences with caches of {@code contextLength} positions, kernels compiled through the default cache.
     *
     * @throws dev.octet.compiler.UnsupportedShapeException when no kernel template serves the model's shapes
     */
    public static DeviceDecoder open(ModelSpec model, RecipeSpec recipe, int slots, int contextLength,
                                     MasterWeights.Source weights) throws IOException {
        StepPlan plan = Lowering.compileDecode(model, recipe, slots, contextLength, Lowering.QUIET);
        CudaContext context = CudaContext.open(0);
        try {
            DeviceDecoder decoder = load(context, plan, new CompileCache(NvrtcCompilers.open(), KernelCompiler.HOPPER,
                    List.of()), weights);
            decoder.ownsContext = true;
            return decoder;
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    /** {@link #load(CudaContext, StepPlan, CompileCache, MasterWeights.Source)} from a parameter store (tests). */
    public static DeviceDecoder load(CudaContext context, StepPlan plan, CompileCache cache, ParameterStore params) {
        try {
            return load(context, plan, cache, MasterWeights.Source.of(params));
        } catch (IOException e) {
            throw new UncheckedIOException(e);  // a parameter store reads no file
        }
    }

    /**
     * Loads the decoding step {@code plan} into {@code context} (current on the calling thread) with the working
     * copies of the master weights {@code weights} hands over one parameter at a time (a checkpoint's, or the
     * seed's), rounded to BF16 as training rounds them, and captures its graph. The host holds one parameter at
     * a time, never the model.
     */
    public static DeviceDecoder load(CudaContext context, StepPlan plan, CompileCache cache, MasterWeights.Source weights)
            throws IOException {
        ArenaLayout layout = new ArenaLayout(plan);
        LoadedKernels kernels = LoadedKernels.load(plan, List.of(), cache);
        DeviceBuffer arena = null;
        CudaStream stream = null;
        try {
            arena = context.allocate(layout.arenaBytes());
            arena.fill((byte) 0);
            Map<String, Parameter> read = new HashMap<>();
            for (Parameter p : plan.stepInterface().parameters()) {
                // The parameters whose working copies the step reads (decoding never reads masters); others it never reads.
                if (p.shadow().flatMap(s -> layout.value(s.name())).isPresent()) {
                    read.put(p.name(), p);
                }
            }
            DeviceBuffer target = arena;
            int[] written = {0};
            weights.each((param, values) -> {
                Parameter p = read.get(param.name());
                if (p == null) {
                    return;
                }
                Value shadow = p.shadow().orElseThrow();
                short[] working = new short[Math.toIntExact(shadow.type().elements())];
                if (values.byteSize() != (long) working.length * Float.BYTES) {
                    throw new IllegalArgumentException(param.name() + ": " + values.byteSize() + " bytes of weights for "
                            + working.length + " elements");
                }
                for (int i = 0; i < working.length; i++) {
                    working[i] = Bf16.encode(values.getAtIndex(F32, i));
                }
                target.copyFrom(layout.offset(shadow), working);
                written[0]++;
            });
            if (written[0] != read.size()) {
                throw new IllegalArgumentException("the weights gave " + written[0] + " of the " + read.size()
                        + " parameters the decoding step reads");
            }
            stream = CudaStream.create();
            // The weights' quantizations once, now that the weights are in place; the replayed step reads their codes.
            List<Launch> weightQuantization = plan.weightQuantization();
            kernels.launch(weightQuantization, layout.arguments(weightQuantization, arena.address()),
                    weightQuantization.size(), stream);
            stream.synchronize();
            Set<Integer> once = weightQuantization.stream().map(Launch::index).collect(Collectors.toSet());
            List<Launch> launches = plan.kernels().launches().stream().filter(l -> !once.contains(l.index())).toList();
            List<List<KernelArg>> args = layout.arguments(launches, arena.address());
            CudaStream s = stream;
            CudaGraph graph = CudaGraph.capture(stream, () -> kernels.launch(launches, args, launches.size(), s));
            return new DeviceDecoder(context, layout, kernels, arena, stream, graph);
        } catch (RuntimeException e) {
            if (stream != null) {
                stream.close();
            }
            if (arena != null) {
                arena.close();
            }
            kernels.close();
            throw e;
        }
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int context() {
        return contextLength;
    }

    @Override
    public int vocab() {
        return vocab;
    }

    @Override
    public float[] step(int[] tokenIds, int[] positionIds) {
        if (tokenIds.length != slots || positionIds.length != slots) {
            throw new IllegalArgumentException("the step decodes " + slots + " slots; got " + tokenIds.length
                    + " tokens and " + positionIds.length + " positions");
        }
        for (int s = 0; s < slots; s++) {
            if (tokenIds[s] < 0 || tokenIds[s] >= vocab || positionIds[s] < 0 || positionIds[s] >= contextLength) {
                throw new IllegalArgumentException("slot " + s + ": token " + tokenIds[s] + " at position " + positionIds[s]
                        + " is outside the vocabulary of " + vocab + " or the context of " + contextLength);
            }
        }
        context.makeCurrent();
        arena.copyFromAsync(layout.offset(tokens), tokenIds, stream);
        arena.copyFromAsync(layout.offset(positions), positionIds, stream);
        graph.launch(stream);
        stream.synchronize();
        short[] bits = new short[slots * vocab];
        arena.copyTo(layout.offset(logits), bits);
        float[] out = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            out[i] = Bf16.decode(bits[i]);
        }
        return out;
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%s, %d slots, KV caches of %d positions (%s; arena %.1f MiB)",
                context.info().deviceName(), slots, contextLength, kernels.summary(), layout.arenaBytes() / (1024.0 * 1024.0));
    }

    private static Value required(ArenaLayout layout, StepBuffer buffer) {
        return layout.plan().stepInterface().buffer(buffer).orElseThrow(() -> new IllegalArgumentException(
                "not a decoding step: no " + buffer.bufferName() + " buffer"));
    }

    @Override
    public void close() {
        context.makeCurrent();
        graph.close();
        stream.close();
        arena.close();
        kernels.close();
        if (ownsContext) {
            context.close();
        }
    }
}

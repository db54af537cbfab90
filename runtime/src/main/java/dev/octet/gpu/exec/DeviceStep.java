package dev.octet.gpu.exec;

import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.Storage;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.StepBuffer;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.gpu.CompileCache;
import dev.octet.gpu.CompileReport;
import dev.octet.gpu.CudaContext;
import dev.octet.gpu.CudaEvent;
import dev.octet.gpu.CudaException;
import dev.octet.gpu.CudaGraph;
import dev.octet.gpu.CudaStream;
import dev.octet.gpu.DeviceBuffer;
import dev.octet.gpu.KernelArg;
import dev.octet.gpu.Nccl;
import dev.octet.checkpoint.DType;
import dev.octet.checkpoint.TensorSource;
import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.optim.InitialWeightsKernel;
import dev.octet.gpu.PinnedBuffer;
import dev.octet.numerics.Bf16;
import dev.octet.numerics.InitialWeights;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A compiled training step on a CUDA device: one arena holding every buffer at its planned offset, the
 * step's kernels compiled through the cache and loaded, and each launch's arguments bound once to arena
 * addresses. A step is {@link #beginStep}, then {@link #runMicroBatch} per micro-batch, then
 * {@link #runOptimizer}, then {@link #finishStep}, the one point where the host waits for the device.
 *
 * <p>Graphs: inputs differ per micro-batch, so two CUDA graphs are captured ({@link #captureGraphs}): forward
 * plus backward of one micro-batch, and the optimizer. Host inputs are copied on the same stream before each
 * replay, so the step's launches and copies stay in order without a host wait; the per-step values (learning
 * rate, bias corrections, loss weight) live in device buffers, so the same graphs replay every step.
 */
public final class DeviceStep implements AutoCloseable {
    /** Writes masters and working copies in place: the training state's initialisation and reload. */
    private static final CudaKernel INITIAL_WEIGHTS = new InitialWeightsKernel(true).emit();
    /** For a parameter without a working copy (its readers quantize the master: WeightsFromMasters). */
    private static final CudaKernel INITIAL_MASTERS = new InitialWeightsKernel(false).emit();
    /** Host staging for state streamed to and from files: large enough for full-speed copies, small beside the heap. */
    private static final long STAGING_BYTES = 64L << 20;

    private final CudaContext context;
    private final ArenaLayout layout;
    private final LoadedKernels kernels;
    private final DeviceBuffer arena;
    private final CudaStream stream;
    private final List<Launch> microBatchLaunches;
    private final List<Launch> optimizerLaunches;
    private final List<List<KernelArg>> microBatchArgs;
    private final List<List<KernelArg>> optimizerArgs;
    /** Indices into the optimizer's launches of those that quantize weights once per step (WeightsQuantizedPerStep). */
    private final List<Integer> weightCodeLaunches;
    /** Launches up to the one that adds the micro-batch's loss: what a loss without gradients needs. */
    private final int lossPrefix;
    /** Persistent state those launches update: delayed scaling's amax histories and their counts. */
    private final List<Value> forwardState;
    private Optional<CudaGraph> microBatchGraph = Optional.empty();
    private Optional<CudaGraph> optimizerGraph = Optional.empty();
    private PinnedBuffer staging;

    private DeviceStep(CudaContext context, ArenaLayout layout, LoadedKernels kernels, DeviceBuffer arena,
                       CudaStream stream) {
        this.context = context;
        this.layout = layout;
        this.kernels = kernels;
        this.arena = arena;
        this.stream = stream;
        StepPlan plan = layout.plan();
        this.microBatchLaunches = plan.kernels().launches().stream().filter(l -> l.phase() != Phase.OPTIMIZER).toList();
        this.optimizerLaunches = plan.launches(Phase.OPTIMIZER);
        this.microBatchArgs = layout.arguments(microBatchLaunches, arena.address());
        this.optimizerArgs = layout.arguments(optimizerLaunches, arena.address());
        Set<Launch> weightQuantization = Collections.newSetFromMap(new IdentityHashMap<>());
        weightQuantization.addAll(plan.weightQuantization());
        this.weightCodeLaunches = IntStream.range(0, optimizerLaunches.size())
                .filter(i -> weightQuantization.contains(optimizerLaunches.get(i))).boxed().toList();
        if (weightCodeLaunches.size() != weightQuantization.size()) {
            throw new IllegalArgumentException("a training step quantizes weights into persistent codes in its optimizer only");
        }
        Value loss = layout.plan().stepInterface().required(StepBuffer.LOSS);
        int last = -1;
        for (int i = 0; i < microBatchLaunches.size(); i++) {
            if (microBatchLaunches.get(i).writes().contains(loss)) {
                last = i;
            }
        }
        if (last < 0) {
            throw new IllegalArgumentException("no launch of the step writes its loss");
        }
        this.lossPrefix = last + 1;
        this.forwardState = microBatchLaunches.subList(0, lossPrefix).stream().flatMap(l -> l.writes().stream())
                .filter(v -> v.storage() == Storage.OPTIMIZER_STATE).distinct().toList();
    }

    /** Every kernel {@link #load} compiles for {@code plan}: the plan's and the weight initialisation's. */
    public static List<CudaKernel> kernels(StepPlan plan) {
        return LoadedKernels.of(plan, List.of(INITIAL_WEIGHTS, INITIAL_MASTERS));
    }

    /**
     * Compiles the plan's distinct kernels (cache misses in parallel), loads them into {@code context},
     * allocates the arena and zeroes it: gradients, moments, amax histories and their counters start at 0.
     * The context must be current on the calling thread.
     */
    public static DeviceStep load(CudaContext context, StepPlan plan, CompileCache cache) {
        ArenaLayout layout = new ArenaLayout(plan);
        LoadedKernels kernels = LoadedKernels.load(plan, List.of(INITIAL_WEIGHTS, INITIAL_MASTERS), cache);
        DeviceBuffer arena = null;
        try {
            arena = context.allocate(layout.arenaBytes());
            arena.fill((byte) 0);
            return new DeviceStep(context, layout, kernels, arena, CudaStream.create());
        } catch (RuntimeException e) {
            if (arena != null) {
                arena.close();
            }
            kernels.close();
            throw e;
        }
    }

    public ArenaLayout layout() {
        return layout;
    }

    /** How the kernels were obtained: from the cache (warm) or compiled (cold), and how long it took. */
    public CompileReport compileReport() {
        return kernels.report();
    }

    /** One line: compile, module loading and arena size. */
    public String summary() {
        return kernels.summary() + "; arena "
                + String.format(java.util.Locale.ROOT, "%.1f MiB", layout.arenaBytes() / (1024.0 * 1024.0));
    }

    /**
     * Every parameter as {@code initial} says it starts for {@code seed}, computed on the device: masters and
     * their BF16 working copies in place, AdamW moments and gradients zero. Nothing passes through the host.
     */
    public void initialize(long seed, List<InitialWeights.Initial> initial) {
        context.makeCurrent();
        Map<String, Parameter> byName = parametersByName();
        if (initial.size() != byName.size()) {
            throw new IllegalArgumentException("the step has " + byName.size() + " parameters, the initialisation "
                    + initial.size());
        }
        for (InitialWeights.Initial init : initial) {
            Parameter p = byName.get(init.param().name());
            if (p == null) {
                throw new IllegalArgumentException("the step has no parameter " + init.param().name());
            }
            switch (init.fill()) {
                case InitialWeights.Fill.Zeros z -> launchInitialWeights(p, InitialWeightsKernel.Mode.ZEROS, seed, 0, false, 1);
                case InitialWeights.Fill.Ones o -> launchInitialWeights(p, InitialWeightsKernel.Mode.ONES, seed, 0, false, 1);
                case InitialWeights.Fill.Gaussian g -> launchInitialWeights(p, InitialWeightsKernel.Mode.GAUSSIAN, seed,
                        g.firstDraw(), g.residual(), g.layers());
            }
            for (Value state : List.of(p.m(), p.v(), p.gradient())) {
                arena.zeroAsync(layout.offset(state), state.type().bytes(), stream);
            }
        }
        quantizeWeights();
        stream.synchronize();
    }

    /**
     * Rebuilds what derives from the FP32 master weights, after masters were loaded from a file: every BF16 working
     * copy, and the FP8 codes of weights quantized once per step.
     */
    public void refreshWorkingCopies() {
        context.makeCurrent();
        for (Parameter p : parameters()) {
            if (p.shadow().isPresent()) {
                launchInitialWeights(p, InitialWeightsKernel.Mode.KEEP, 0, 0, false, 1);
            }
        }
        quantizeWeights();
        stream.synchronize();
    }

    /**
     * The optimizer's weight quantizations alone (steps of several micro-batches quantize weights once, after the
     * update): the codes the next micro-batches read, from the masters as they are now.
     */
    private void quantizeWeights() {
        for (int i : weightCodeLaunches) {
            kernels.launch(optimizerLaunches.get(i), optimizerArgs.get(i), stream);
        }
    }

    private void launchInitialWeights(Parameter p, InitialWeightsKernel.Mode mode, long seed, long firstDraw,
                                      boolean residual, int layers) {
        long count = p.master().type().elements();
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(p.name() + " has " + count + " elements; at most 2^31 - 1 per parameter");
        }
        List<KernelArg> args = new ArrayList<>(List.of(arena.at(layout.offset(p.master()))));
        p.shadow().ifPresent(s -> args.add(arena.at(layout.offset(s))));
        args.addAll(List.of(new KernelArg.I32((int) count), new KernelArg.I32(mode.ordinal()),
                new KernelArg.I32((int) seed), new KernelArg.I32((int) (seed >>> 32)),
                new KernelArg.I32((int) firstDraw), new KernelArg.I32((int) (firstDraw >>> 32)),
                new KernelArg.I32(residual ? 1 : 0), new KernelArg.I32(layers)));
        kernels.launch(p.shadow().isPresent() ? INITIAL_WEIGHTS : INITIAL_MASTERS, args, stream);
    }

    /**
     * The FP32 contents of {@code v} (a master weight or a moment) as a tensor of {@code shape} that streams
     * from the device to a file through pinned staging when written: no host copy of the whole tensor.
     */
    public TensorSource f32Tensor(Value v, List<Long> shape) {
        requireF32(v);
        return TensorSource.of(DType.F32, shape, out -> {
            context.makeCurrent();
            stream.synchronize();
            PinnedBuffer host = staging();
            long base = layout.offset(v), total = v.type().bytes();
            for (long done = 0; done < total; ) {
                long n = Math.min(host.bytes(), total - done);
                arena.copyTo(base + done, host, n);
                ByteBuffer bytes = host.front(n);
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                done += n;
            }
        });
    }

    /**
     * Overwrites the FP32 tensor {@code v} with {@code values}, little-endian floats (a region of a memory-mapped
     * file), through pinned staging. Working copies are not touched: {@link #refreshWorkingCopies} after the
     * masters are loaded.
     */
    public void loadF32(Value v, MemorySegment values) {
        requireF32(v);
        if (values.byteSize() != v.type().bytes()) {
            throw new IllegalArgumentException(v.name() + " holds " + v.type().bytes() + " bytes, not " + values.byteSize());
        }
        context.makeCurrent();
        stream.synchronize();
        PinnedBuffer host = staging();
        long base = layout.offset(v), total = values.byteSize();
        for (long done = 0; done < total; ) {
            long n = Math.min(host.bytes(), total - done);
            host.segment(n).copyFrom(values.asSlice(done, n));
            arena.copyFrom(base + done, host, n);
            done += n;
        }
    }

    private static void requireF32(Value v) {
        if (v.type().dtype() != dev.octet.compiler.ir.DType.F32) {
            throw new IllegalArgumentException(v.name() + " is " + v.type().dtype() + ", not f32");
        }
    }

    private PinnedBuffer staging() {
        if (staging == null) {
            staging = PinnedBuffer.allocate(STAGING_BYTES);
        }
        return staging;
    }

    private Map<String, Parameter> parametersByName() {
        Map<String, Parameter> byName = new LinkedHashMap<>();
        parameters().forEach(p -> byName.put(p.name(), p));
        return byName;
    }

    /**
     * Writes master weights (FP32), their BF16 working copies where the step keeps them (rounded to nearest even
     * from the masters, as the CPU's working copy is) and the AdamW moments from {@code params}, zeroes the
     * gradients, and quantizes the weights a step quantizes once. For runs that compare the device with the CPU
     * oracle from one host state; training initialises on the device.
     */
    public void upload(ParameterStore params) {
        context.makeCurrent();
        stream.synchronize();
        for (Parameter p : parameters()) {
            ParameterStore.Entry e = params.get(p.name());
            float[] master = e.master();
            arena.copyFrom(layout.offset(p.master()), master);
            if (p.shadow().isPresent()) {
                short[] shadow = new short[master.length];
                for (int i = 0; i < master.length; i++) {
                    shadow[i] = Bf16.encode(master[i]);
                }
                arena.copyFrom(layout.offset(p.shadow().get()), shadow);
            }
            arena.copyFrom(layout.offset(p.m()), e.m());
            arena.copyFrom(layout.offset(p.v()), e.v());
            arena.copyFrom(layout.offset(p.gradient()), new float[master.length]);
        }
        quantizeWeights();
        stream.synchronize();
    }

    /** Reads master weights and AdamW moments back into {@code params} (checkpoints, tests). */
    public void download(ParameterStore params) {
        context.makeCurrent();
        stream.synchronize();
        for (Parameter p : parameters()) {
            ParameterStore.Entry e = params.get(p.name());
            arena.copyTo(layout.offset(p.master()), e.master());
            arena.copyTo(layout.offset(p.m()), e.m());
            arena.copyTo(layout.offset(p.v()), e.v());
        }
    }

    /** The FP32 contents of {@code v} (a master weight, a gradient, a moment, an output). */
    public float[] readF32(Value v) {
        context.makeCurrent();
        stream.synchronize();
        float[] out = new float[Math.toIntExact(v.type().elements())];
        arena.copyTo(layout.offset(v), out);
        return out;
    }

    /** Overwrites the FP32 contents of {@code v} (tests inject faults this way; a checkpoint loads through upload). */
    public void writeF32(Value v, float[] contents) {
        context.makeCurrent();
        stream.synchronize();
        if (contents.length != v.type().elements()) {
            throw new IllegalArgumentException(v.name() + " holds " + v.type().elements() + " elements, not " + contents.length);
        }
        arena.copyFrom(layout.offset(v), contents);
    }

    /** The BF16 bit patterns of {@code v} (a working copy). */
    public short[] readBf16(Value v) {
        context.makeCurrent();
        stream.synchronize();
        short[] out = new short[Math.toIntExact(v.type().elements())];
        arena.copyTo(layout.offset(v), out);
        return out;
    }

    /** The bytes of {@code v} (FP8 codes). */
    public byte[] readBytes(Value v) {
        return readPrefix(v, v.type().bytes());
    }

    /** The first {@code length} bytes of {@code v}: a sample of rows without reading the whole tensor. */
    public byte[] readPrefix(Value v, long length) {
        if (length < 0 || length > v.type().bytes()) {
            throw new IllegalArgumentException(v.name() + " holds " + v.type().bytes() + " bytes, not " + length);
        }
        context.makeCurrent();
        stream.synchronize();
        byte[] out = new byte[Math.toIntExact(length)];
        arena.copyTo(layout.offset(v), out);
        return out;
    }

    /**
     * Columns {@code [0, width)} of {@code v} seen as a row-major {@code [rows, cols]} matrix, packed row by row
     * ({@code rows × width} elements' bytes): a sample of a transposed operand without reading the whole tensor.
     */
    public byte[] readColumns(Value v, int rows, int cols, int width) {
        if ((long) rows * cols != v.type().elements() || width < 0 || width > cols) {
            throw new IllegalArgumentException(v.name() + " " + v.type() + " is not " + rows + "x" + cols
                    + " with " + width + " columns to read");
        }
        context.makeCurrent();
        stream.synchronize();
        int element = v.type().dtype().bytes();
        byte[] out = new byte[Math.toIntExact((long) rows * width * element)];
        arena.copyTo2D(layout.offset(v), (long) cols * element, (long) width * element, rows, out);
        return out;
    }

    /** Overwrites the bytes of {@code v} (an amax history's count restored from a checkpoint). */
    public void writeBytes(Value v, byte[] contents) {
        context.makeCurrent();
        stream.synchronize();
        if (contents.length != v.type().bytes()) {
            throw new IllegalArgumentException(v.name() + " holds " + v.type().bytes() + " bytes, not " + contents.length);
        }
        arena.copyFrom(layout.offset(v), contents);
    }

    /** The step's parameters with their master, working copy, gradient and moment buffers. */
    public List<Parameter> parameters() {
        return layout.plan().stepInterface().parameters();
    }

    /** Starts a step: the loss output is zeroed (micro-batches add into it) and the per-step values written. */
    public void beginStep(StepScalars scalars, float lossWeight) {
        context.makeCurrent();
        Value loss = required(StepBuffer.LOSS);
        arena.zeroAsync(layout.offset(loss), loss.type().bytes(), stream);
        writeInput(StepBuffer.STEP_SCALARS, scalars.slots());
        writeInput(StepBuffer.LOSS_WEIGHT, new float[] {lossWeight});
    }

    /** Forward and backward of one micro-batch: its inputs are copied, then its launches queued. */
    public void runMicroBatch(MicroBatchInputs inputs) {
        writeInputs(inputs);
        microBatchGraph.ifPresentOrElse(g -> g.launch(stream), () -> launchAll(microBatchLaunches, microBatchArgs,
                microBatchLaunches.size()));
    }

    /**
     * {@link #runMicroBatch} launch by launch, never from the captured graph, calling {@code afterLaunch} as each
     * launch is queued: what lets the host look at a transient before a later launch reuses its place. The
     * same computation as a replay, so the graphs stay valid.
     */
    public void runMicroBatchEagerly(MicroBatchInputs inputs, Consumer<Launch> afterLaunch) {
        writeInputs(inputs);
        for (int i = 0; i < microBatchLaunches.size(); i++) {
            Launch l = microBatchLaunches.get(i);
            kernels.launch(l, microBatchArgs.get(i), stream);
            afterLaunch.accept(l);
        }
    }

    /**
     * The device milliseconds of every launch of one step, indexed as {@code plan.kernels().launches()} (summed over
     * the micro-batches), and how they were taken ({@link #timeLaunches}).
     */
    public record LaunchTimes(double[] millis, String method) {}

    /**
     * One whole step (micro-batches, then the optimizer) with a timing event after every launch; the step's weights
     * change as a normal step's would. Each phase's launches are captured with their events as one CUDA graph and
     * replayed once, so that the events are recorded on the device between kernels that follow each other as in the
     * step's own graphs: a kernel's time is its run and the gap before the next, not the host's time to queue it.
     * Where the capture fails, the launches are queued one by one from the host instead, and {@code method} says why:
     * then kernels shorter than a launch's overhead read long.
     */
    public LaunchTimes timeLaunches(StepScalars scalars, float lossWeight, List<MicroBatchInputs> microBatches) {
        Map<Launch, Integer> position = new IdentityHashMap<>();
        List<Launch> all = layout.plan().kernels().launches();
        for (int i = 0; i < all.size(); i++) {
            position.put(all.get(i), i);
        }
        double[] millis = new double[all.size()];
        List<String> methods = new ArrayList<>();
        beginStep(scalars, lossWeight);
        for (MicroBatchInputs in : microBatches) {
            writeInputs(in);
            methods.add(timeLaunches(microBatchLaunches, microBatchArgs, position, millis));
        }
        methods.add(timeLaunches(optimizerLaunches, optimizerArgs, position, millis));
        return new LaunchTimes(millis, methods.stream().distinct().collect(Collectors.joining("; ")));
    }

    /** Queues {@code launches} on the stream, {@code record}ing {@code events} before the first and after each. */
    private void queueTimed(List<Launch> launches, List<List<KernelArg>> args, List<CudaEvent> events,
                            Consumer<CudaEvent> record) {
        record.accept(events.getFirst());
        for (int i = 0; i < launches.size(); i++) {
            kernels.launch(launches.get(i), args.get(i), stream);
            record.accept(events.get(i + 1));
        }
    }

    /** Queues {@code launches} with an event before the first and after each, timed; returns how (see above). */
    private String timeLaunches(List<Launch> launches, List<List<KernelArg>> args, Map<Launch, Integer> position,
                                double[] millis) {
        List<CudaEvent> events = new ArrayList<>();
        try {
            for (int i = 0; i <= launches.size(); i++) {
                events.add(CudaEvent.create());
            }
            String method = "one CUDA graph a phase, an event node after every launch";
            Optional<CudaGraph> timed;
            try {
                timed = Optional.of(CudaGraph.capture(stream,
                        () -> queueTimed(launches, args, events, e -> e.recordInCapture(stream))));
            } catch (CudaException e) {
                // Nothing of the capture ran: the same launches are queued from the host below.
                timed = Optional.empty();
                method = "launch by launch from the host (the timed graph failed: " + e.getMessage().lines().findFirst().orElse("")
                        + "), so kernels shorter than a launch read long";
            }
            if (timed.isPresent()) {
                try (CudaGraph graph = timed.get()) {
                    graph.launch(stream);
                    stream.synchronize();  // before the graph is destroyed
                }
            } else {
                queueTimed(launches, args, events, e -> e.record(stream));
                stream.synchronize();
            }
            for (int i = 0; i < launches.size(); i++) {
                millis[position.get(launches.get(i))] += events.get(i + 1).millisSince(events.get(i));
            }
            return method;
        } finally {
            events.forEach(CudaEvent::close);
        }
    }

    /**
     * Waits for the micro-batches queued so far and reads the loss they added up, before any optimizer: what a
     * test of the forward and backward reads. A training step does not wait here; the optimizer's gradient-norm
     * kernel skips the update on a non-finite loss and {@link #finishStep} reads both.
     */
    public float lossSoFar() {
        context.makeCurrent();
        stream.synchronize();
        float[] loss = new float[1];
        arena.copyTo(layout.offset(required(StepBuffer.LOSS)), loss);
        return loss[0];
    }

    /** Zeroes the gradients without an update, as the optimizer leaves them: what a skipped step does instead. */
    public void discardGradients() {
        context.makeCurrent();
        for (Value g : layout.values(Storage.GRADIENT)) {
            arena.zeroAsync(layout.offset(g), g.type().bytes(), stream);
        }
    }

    /**
     * Every gradient and the step's loss summed over the ranks of {@code ranks}, in place, on the step's stream:
     * between the last micro-batch and {@link #runOptimizer}, so every rank's optimizer sees the whole global
     * batch's gradients (each rank weighted its tokens by the global count) and makes the same update.
     */
    public void sumGradientsOver(Nccl.Communicator ranks) {
        context.makeCurrent();
        List<Value> summed = new ArrayList<>(layout.values(Storage.GRADIENT));
        summed.add(required(StepBuffer.LOSS));
        for (Value v : summed) {
            if (v.type().dtype() != dev.octet.compiler.ir.DType.F32) {
                throw new IllegalStateException(v.name() + " is " + v.type().dtype() + "; the ranks sum F32 gradients");
            }
            ranks.allReduceInPlace(arena, layout.offset(v), v.type().elements(), Nccl.DataType.FLOAT32, Nccl.ReduceOp.SUM,
                    stream);
        }
    }

    /**
     * Gradient norm, clipping and AdamW (and the weights' quantization where a step quantizes them once); the
     * gradients are zeroed for the next step.
     */
    public void runOptimizer() {
        context.makeCurrent();
        optimizerGraph.ifPresentOrElse(g -> g.launch(stream), () -> launchAll(optimizerLaunches, optimizerArgs,
                optimizerLaunches.size()));
    }

    /** {@link #runOptimizer} launch by launch, calling {@code afterLaunch} as each is queued (as {@link #runMicroBatchEagerly}). */
    public void runOptimizerEagerly(Consumer<Launch> afterLaunch) {
        context.makeCurrent();
        for (int i = 0; i < optimizerLaunches.size(); i++) {
            Launch l = optimizerLaunches.get(i);
            kernels.launch(l, optimizerArgs.get(i), stream);
            afterLaunch.accept(l);
        }
    }

    /** Waits for the step and reads its loss and gradient norm: the step's one host wait. */
    public StepResult finishStep() {
        context.makeCurrent();
        stream.synchronize();
        float[] loss = new float[1];
        arena.copyTo(layout.offset(required(StepBuffer.LOSS)), loss);
        float[] norm = new float[1];
        Optional<Value> gradNorm = layout.plan().stepInterface().buffer(StepBuffer.GRAD_NORM);
        if (gradNorm.isPresent()) {
            arena.copyTo(layout.offset(gradNorm.get()), norm);
        }
        return new StepResult(loss[0], norm[0]);
    }

    /** Loss and gradient norm of a finished step. */
    public record StepResult(float loss, float gradNorm) {}

    /**
     * The mean loss of one batch without changing any weight or training state: the launches up to the loss
     * only (eager), with gradients zeroed afterwards in case a launch before the loss wrote any, and the state
     * those launches update (delayed scaling's amax histories and counts) put back as it was.
     */
    public float loss(MicroBatchInputs inputs) {
        context.makeCurrent();
        List<byte[]> saved = forwardState.stream().map(this::readBytes).toList();
        Value loss = required(StepBuffer.LOSS);
        arena.zeroAsync(layout.offset(loss), loss.type().bytes(), stream);
        writeInput(StepBuffer.LOSS_WEIGHT, new float[] {MicroBatchInputs.lossWeight(List.of(inputs))});
        writeInputs(inputs);
        launchAll(microBatchLaunches, microBatchArgs, lossPrefix);
        discardGradients();
        stream.synchronize();
        float[] out = new float[1];
        arena.copyTo(layout.offset(loss), out);
        for (int i = 0; i < forwardState.size(); i++) {
            writeBytes(forwardState.get(i), saved.get(i));
        }
        return out[0];
    }

    /**
     * Captures the micro-batch's and the optimizer's launches as two graphs; later steps replay them. Nothing
     * runs during capture.
     */
    public void captureGraphs() {
        context.makeCurrent();
        stream.synchronize();
        microBatchGraph.ifPresent(CudaGraph::close);
        optimizerGraph.ifPresent(CudaGraph::close);
        microBatchGraph = Optional.of(CudaGraph.capture(stream,
                () -> launchAll(microBatchLaunches, microBatchArgs, microBatchLaunches.size())));
        optimizerGraph = Optional.of(CudaGraph.capture(stream,
                () -> launchAll(optimizerLaunches, optimizerArgs, optimizerLaunches.size())));
    }

    public boolean replaysGraphs() {
        return microBatchGraph.isPresent();
    }

    private void writeInputs(MicroBatchInputs inputs) {
        context.makeCurrent();
        writeInput(StepBuffer.TOKENS, inputs.tokens());
        writeInput(StepBuffer.TARGETS, inputs.targets());
        writeInput(StepBuffer.POSITIONS, inputs.positions());
        writeInput(StepBuffer.DOCUMENT_IDS, inputs.documentIds());
    }

    /** A model that never reads an input (no positions without RoPE or position embeddings) has no buffer for it. */
    private void writeInput(StepBuffer input, int[] host) {
        layout.plan().stepInterface().buffer(input).ifPresent(v -> arena.copyFromAsync(layout.offset(v), checkedLength(v, host), stream));
    }

    private void writeInput(StepBuffer input, float[] host) {
        layout.plan().stepInterface().buffer(input).ifPresent(v -> {
            checkedLength(v, host.length);
            arena.copyFromAsync(layout.offset(v), host, stream);
        });
    }

    private int[] checkedLength(Value v, int[] host) {
        checkedLength(v, host.length);
        return host;
    }

    private void checkedLength(Value v, int length) {
        if (length != v.type().elements()) {
            throw new IllegalArgumentException(v.name() + " holds " + v.type().elements() + " elements, the host wrote "
                    + length);
        }
    }

    private Value required(StepBuffer buffer) {
        return layout.plan().stepInterface().required(buffer);
    }

    private void launchAll(List<Launch> launches, List<List<KernelArg>> args, int count) {
        kernels.launch(launches, args, count, stream);
    }

    @Override
    public void close() {
        context.makeCurrent();
        microBatchGraph.ifPresent(CudaGraph::close);
        optimizerGraph.ifPresent(CudaGraph::close);
        stream.close();
        if (staging != null) {
            staging.close();
        }
        arena.close();
        kernels.close();
    }
}

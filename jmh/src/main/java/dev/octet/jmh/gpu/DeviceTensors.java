package dev.octet.jmh.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.cuda.gemm.GemmKernel;
import dev.octet.compiler.ir.DType;
import dev.octet.gpu.DeviceBuffer;
import dev.octet.gpu.KernelArg;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Named device buffers of one benchmark, filled on the device (no host arrays of hundreds of MB), and the
 * binding of a kernel's parameters to them by name. Binding happens once, in setup, so the measured loop only
 * queues launches.
 */
public final class DeviceTensors implements AutoCloseable {
    private record Named(DeviceBuffer buffer, DType dtype, long length) {}

    private final GpuBench bench;
    private final Map<String, Named> buffers = new LinkedHashMap<>();

    DeviceTensors(GpuBench bench) {
        this.bench = bench;
    }

    /** {@code length} elements uniform in [lo, hi) (FP8: encoded with saturation, BF16: rounded to nearest even). */
    public DeviceTensors uniform(String name, DType dtype, long length, float lo, float hi) {
        Named named = allocate(name, dtype, length);
        bench.fill().uniform(named.buffer(), dtype, length, lo, hi, buffers.size());
        return this;
    }

    /** {@code length} floats, every one {@code value} (e.g. power-of-two dequantization scales). */
    public DeviceTensors constant(String name, long length, float value) {
        allocate(name, DType.F32, length).buffer().fill32(Float.floatToRawIntBits(value));
        // A plain memset runs on the legacy stream, which the benchmarks' non-blocking stream does not wait for.
        bench.context().synchronize();
        return this;
    }

    /** {@code length} elements, every byte 0 (outputs, and scratch a kernel writes before it reads). */
    public DeviceTensors zeros(String name, DType dtype, long length) {
        allocate(name, dtype, length);
        clear(name);
        return this;
    }

    /** Host ints copied in (document ids). */
    public DeviceTensors upload(String name, int[] values) {
        allocate(name, DType.I32, values.length).buffer().copyFrom(values);
        return this;
    }

    /** Host floats copied in (small buffers such as AdamW's per-step scalars). */
    public DeviceTensors upload(String name, float[] values) {
        allocate(name, DType.F32, values.length).buffer().copyFrom(values);
        return this;
    }

    /**
     * Every byte of buffer {@code name} set to 0 again, queued on the benchmarks' stream so that it is ordered with
     * their launches (an output before a launch whose result is compared).
     */
    public void clear(String name) {
        DeviceBuffer buffer = named(name).buffer();
        buffer.zeroAsync(0, buffer.bytes(), bench.stream());
    }

    /** How far buffer {@code got} is from buffer {@code want}, which holds as many elements of the same type. */
    public DeviceComparison.Distance distance(String got, String want) {
        Named g = named(got), w = named(want);
        if (g.dtype() != w.dtype() || g.length() != w.length()) {
            throw new IllegalArgumentException("cannot compare " + got + " (" + g.length() + " x " + g.dtype().irName()
                    + ") with " + want + " (" + w.length() + " x " + w.dtype().irName() + ")");
        }
        return new DeviceComparison(bench).distance(g.buffer(), w.buffer(), g.dtype(), g.length());
    }

    /** {@link #bindGemm(GemmKernel, String)} into the tensor named c. */
    public List<Launch> bindGemm(GemmKernel gemm) {
        return bindGemm(gemm, "c");
    }

    /**
     * The launches of one GEMM over the tensors named a, b, [bias], [residual] and {@code output} (its parameter c):
     * the kernel, and with split K a {@code partials} scratch for its K ranges and the reduction that adds them into
     * the output (both timed).
     */
    public List<Launch> bindGemm(GemmKernel gemm, String output) {
        return bindGemm(gemm, param -> param.equals("c") ? output : param);
    }

    /**
     * {@link #bindGemm(GemmKernel)} over copy {@code copy} of its tensors: {@code name} for copy 0 and
     * {@code name_<copy>} for the others (the K ranges' scratch {@code partials} is shared).
     */
    public List<Launch> bindGemmCopy(GemmKernel gemm, int copy) {
        return bindGemm(gemm, param -> copy == 0 || param.equals("partials") ? param : param + "_" + copy);
    }

    /** The GEMM's launches, each buffer parameter bound to the buffer {@code buffer} names for it. */
    private List<Launch> bindGemm(GemmKernel gemm, UnaryOperator<String> buffer) {
        if (gemm.splits() == 1) {
            return List.of(bind(gemm.emit(), buffer));
        }
        long partials = (long) gemm.splits() * gemm.problem().m() * gemm.problem().n();
        Named held = buffers.get("partials");
        if (held == null || held.length() < partials) {
            // One scratch for every split this set binds: the largest so far.
            if (held != null) {
                buffers.remove("partials").buffer().close();
            }
            zeros("partials", DType.F32, partials);
        }
        return List.of(bind(gemm.emit(), buffer), bind(gemm.splitReduction().emit(), buffer));
    }

    /**
     * {@code kernel} ready to queue: each buffer parameter bound to the buffer of the same name, or to the one
     * {@code renames} maps it to ({@code param, buffer, param, buffer, ...}).
     */
    public Launch bind(CudaKernel kernel, String... renames) {
        if (renames.length % 2 != 0) {
            throw new IllegalArgumentException("renames come in pairs: parameter, buffer");
        }
        Map<String, String> rename = new LinkedHashMap<>();
        for (int i = 0; i < renames.length; i += 2) {
            rename.put(renames[i], renames[i + 1]);
        }
        return bind(kernel, param -> rename.getOrDefault(param, param));
    }

    /** {@code kernel} ready to queue, each buffer parameter bound to the buffer {@code buffer} names for it. */
    private Launch bind(CudaKernel kernel, UnaryOperator<String> buffer) {
        List<KernelArg> args = new ArrayList<>();
        for (KernelParam param : kernel.params()) {
            if (param.kind() != KernelParam.Kind.BUFFER) {
                throw new IllegalArgumentException("kernel " + kernel.name() + " takes scalar " + param.name()
                        + "; the benchmarks bind buffers only");
            }
            String name = buffer.apply(param.name());
            Named named = buffers.get(name);
            if (named == null) {
                throw new IllegalArgumentException("kernel " + kernel.name() + ", parameter " + param.cudaDeclaration()
                        + ": no buffer named " + name + " (have " + buffers.keySet() + ")");
            }
            if (named.dtype() != param.dtype()) {
                throw new IllegalArgumentException("kernel " + kernel.name() + ", parameter " + param.cudaDeclaration()
                        + ": buffer " + name + " holds " + named.dtype().irName());
            }
            args.add(KernelArg.buffer(param, named.buffer().address()));
        }
        return new Launch(kernel, bench.function(kernel), List.copyOf(args));
    }

    private Named named(String name) {
        Named named = buffers.get(name);
        if (named == null) {
            throw new IllegalArgumentException("no buffer named " + name + " (have " + buffers.keySet() + ")");
        }
        return named;
    }

    private Named allocate(String name, DType dtype, long length) {
        if (buffers.containsKey(name)) {
            throw new IllegalArgumentException("buffer " + name + " exists already");
        }
        // 16-byte vector loads read past no end: round every allocation up to 16 bytes.
        long bytes = Math.ceilDiv(GpuBench.bytes(dtype, length), 16) * 16;
        Named named = new Named(DeviceBuffer.allocate(bytes), dtype, length);
        buffers.put(name, named);
        return named;
    }

    @Override
    public void close() {
        bench.makeCurrent();
        buffers.values().forEach(n -> n.buffer().close());
        buffers.clear();
    }
}

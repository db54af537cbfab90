package dev.octet.gpu.kernels;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.cuda.KernelParam;
import dev.octet.compiler.ir.DType;
import dev.octet.gpu.DeviceBuffer;
import dev.octet.gpu.KernelArg;
import dev.octet.gpu.KernelLauncher;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named device buffers for one test, and launches that bind kernel parameters to them by name. Inputs are
 * uploaded from host data; outputs are poisoned with 0xFF bytes first (NaN in F32, BF16, E4M3 and E5M2; -1 in
 * I32), so an element a kernel forgets to write cannot pass for a correct one. Each launch synchronizes, so an
 * error while a kernel runs is reported against that kernel.
 */
public final class DeviceWorkspace implements AutoCloseable {

    /** What a kernel parameter is bound to when its name is not the name of a buffer, or it is a scalar. */
    public sealed interface Binding {
        String param();

        /** {@code param} points {@code elementOffset} elements into the buffer named {@code buffer}. */
        record Buffer(String param, String buffer, int elementOffset) implements Binding {}

        record Scalar(String param, KernelArg value) implements Binding {}

        static Binding buffer(String param, String buffer, int elementOffset) {
            return new Buffer(param, buffer, elementOffset);
        }

        static Binding buffer(String param, String buffer) {
            return new Buffer(param, buffer, 0);
        }

        static Binding i32(String param, int value) {
            return new Scalar(param, new KernelArg.I32(value));
        }

        static Binding f32(String param, float value) {
            return new Scalar(param, new KernelArg.F32(value));
        }
    }

    private record Named(DeviceBuffer buffer, DType dtype, int length) {}

    private final GpuSession session;
    private final Map<String, Named> buffers = new LinkedHashMap<>();

    DeviceWorkspace(GpuSession session) {
        this.session = session;
    }

    /** A buffer holding {@code data}. */
    public DeviceWorkspace input(String name, HostArray data) {
        Named named = allocate(name, data.dtype(), data.length());
        data.upload(named.buffer());
        return this;
    }

    /** A buffer of {@code length} elements of {@code dtype}, every byte 0xFF. */
    public DeviceWorkspace output(String name, DType dtype, int length) {
        allocate(name, dtype, length).buffer().fill((byte) 0xFF);
        return this;
    }

    /** Overwrites an existing buffer's contents (e.g. a new step's input), keeping its size and type. */
    public DeviceWorkspace write(String name, HostArray data) {
        Named named = named(name);
        if (named.dtype() != data.dtype() || named.length() != data.length()) {
            throw new IllegalArgumentException("buffer " + name + " holds " + named.length() + " " + named.dtype().irName()
                    + ", not " + data.length() + " " + data.dtype().irName());
        }
        data.upload(named.buffer());
        return this;
    }

    /** Poisons an existing buffer again. */
    public DeviceWorkspace poison(String name) {
        named(name).buffer().fill((byte) 0xFF);
        return this;
    }

    /**
     * Launches {@code kernel} with its own geometry and waits for it. A buffer parameter binds to the buffer of
     * the same name unless {@code bindings} names another; scalar parameters must be given in {@code bindings}.
     */
    public DeviceWorkspace launch(CudaKernel kernel, Binding... bindings) {
        Map<String, Binding> byParam = new LinkedHashMap<>();
        for (Binding binding : bindings) {
            if (kernel.params().stream().noneMatch(p -> p.name().equals(binding.param()))) {
                throw new IllegalArgumentException("kernel " + kernel.name() + " has no parameter " + binding.param()
                        + "; its signature is " + CudaKernel.signature(kernel.params()));
            }
            byParam.put(binding.param(), binding);
        }
        List<KernelArg> args = new ArrayList<>();
        for (KernelParam param : kernel.params()) {
            args.add(argument(kernel, param, byParam.getOrDefault(param.name(), Binding.buffer(param.name(), param.name()))));
        }
        KernelLauncher.launch(session.function(kernel), kernel, session.stream(), args);
        session.stream().synchronize();
        return this;
    }

    private KernelArg argument(CudaKernel kernel, KernelParam param, Binding binding) {
        String where = "kernel " + kernel.name() + ", parameter " + param.cudaDeclaration() + ": ";
        return switch (param.kind()) {
            case SCALAR -> switch (binding) {
                case Binding.Scalar s -> s.value();
                case Binding.Buffer b -> throw new IllegalArgumentException(where + "a scalar needs a value binding");
            };
            case BUFFER -> switch (binding) {
                case Binding.Buffer b -> {
                    Named named = buffers.get(b.buffer());
                    if (named == null) {
                        throw new IllegalArgumentException(where + "no buffer named " + b.buffer() + " (have " + buffers.keySet() + ")");
                    }
                    if (named.dtype() != param.dtype()) {
                        throw new IllegalArgumentException(where + "buffer " + b.buffer() + " holds " + named.dtype().irName());
                    }
                    if (b.elementOffset() < 0 || b.elementOffset() >= named.length()) {
                        throw new IllegalArgumentException(where + "offset " + b.elementOffset() + " outside " + b.buffer());
                    }
                    yield KernelArg.buffer(param, named.buffer().address() + (long) b.elementOffset() * named.dtype().bytes());
                }
                case Binding.Scalar s -> throw new IllegalArgumentException(where + "a buffer needs a buffer binding");
            };
        };
    }

    /** The device address of the buffer named {@code name}, for calls that take raw addresses (NCCL). */
    public long address(String name) {
        return named(name).buffer().address();
    }

    public float[] f32(String name) {
        return ((HostArray.F32) read(name, DType.F32)).values();
    }

    /** BF16 contents as raw bits. */
    public short[] bf16Bits(String name) {
        return ((HostArray.Bf16Bits) read(name, DType.BF16)).bits();
    }

    /** BF16 contents widened to float (exact). */
    public float[] bf16(String name) {
        return Numbers.bf16ToFloat(bf16Bits(name));
    }

    public byte[] fp8(String name) {
        Named named = named(name);
        return ((HostArray.Fp8Codes) read(name, named.dtype())).codes();
    }

    public int[] i32(String name) {
        return ((HostArray.I32) read(name, DType.I32)).values();
    }

    private HostArray read(String name, DType expected) {
        Named named = named(name);
        if (named.dtype() != expected) {
            throw new IllegalArgumentException("buffer " + name + " holds " + named.dtype().irName() + ", read as " + expected.irName());
        }
        return HostArray.download(named.buffer(), named.dtype(), named.length());
    }

    private Named named(String name) {
        Named named = buffers.get(name);
        if (named == null) {
            throw new IllegalArgumentException("no buffer named " + name + " (have " + buffers.keySet() + ")");
        }
        return named;
    }

    private Named allocate(String name, DType dtype, int length) {
        if (buffers.containsKey(name)) {
            throw new IllegalArgumentException("buffer " + name + " exists already");
        }
        if (length <= 0) {
            throw new IllegalArgumentException("buffer " + name + " of " + length + " elements");
        }
        Named named = new Named(DeviceBuffer.allocate((long) length * dtype.bytes()), dtype, length);
        buffers.put(name, named);
        return named;
    }

    @Override
    public void close() {
        buffers.values().forEach(n -> n.buffer().close());
        buffers.clear();
    }

    @Override
    public String toString() {
        return "DeviceWorkspace" + Arrays.toString(buffers.keySet().toArray());
    }
}

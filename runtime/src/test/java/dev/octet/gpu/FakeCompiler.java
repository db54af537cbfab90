package dev.octet.gpu;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A KernelCompiler without NVRTC: the "CUBIN" is the ELF magic followed by the source, options and arch. */
final class FakeCompiler implements KernelCompiler {
    final AtomicInteger compiles = new AtomicInteger();
    private final NvrtcVersion version;

    FakeCompiler(NvrtcVersion version) {
        this.version = version;
    }

    FakeCompiler() {
        this(new NvrtcVersion(12, 6));
    }

    @Override
    public NvrtcVersion version() {
        return version;
    }

    @Override
    public String description() {
        return "fake NVRTC " + version;
    }

    @Override
    public CompiledKernel compile(String name, String source, String arch, List<String> options) {
        compiles.incrementAndGet();
        byte[] body = (arch + options + source).getBytes(StandardCharsets.UTF_8);
        byte[] cubin = new byte[body.length + 4];
        cubin[0] = 0x7F;
        cubin[1] = 'E';
        cubin[2] = 'L';
        cubin[3] = 'F';
        System.arraycopy(body, 0, cubin, 4, body.length);
        String log = "ptxas info    : Compiling entry function '" + name + "' for '" + arch + "'\n"
                + "ptxas info    : Function properties for " + name + "\n"
                + "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
                + "ptxas info    : Used 12 registers, used 0 barriers, 368 bytes cmem[0]\n";
        return new CompiledKernel(name, arch, cubin, log, PtxasUsage.parse(log, name), 1);
    }
}

package dev.octet.gpu;

import java.util.Arrays;

/** A kernel compiled to a CUBIN, with the compiler's log and what ptxas said about its resources. */
public record CompiledKernel(String name, String arch, byte[] cubin, String log, PtxasUsage usage,
                             long compileMillis) {
    public CompiledKernel {
        if (cubin.length == 0) {
            throw new IllegalArgumentException("empty CUBIN for " + name);
        }
        cubin = cubin.clone();
    }

    @Override
    public byte[] cubin() {
        return cubin.clone();
    }

    public int registers() {
        return usage.registers();
    }

    public int spillBytes() {
        return usage.spillBytes();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CompiledKernel k && name.equals(k.name) && arch.equals(k.arch)
                && Arrays.equals(cubin, k.cubin) && log.equals(k.log) && usage.equals(k.usage)
                && compileMillis == k.compileMillis;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(cubin);
    }

    @Override
    public String toString() {
        return name + " [" + arch + ", " + cubin.length + " B CUBIN, " + usage.registers() + " registers, "
                + usage.spillBytes() + " B spilled, " + compileMillis + " ms]";
    }
}

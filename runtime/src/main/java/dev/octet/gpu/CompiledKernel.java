package dev.octet.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /**
     * ptxas warnings that mean a Hopper kernel left its fast path: a wgmma it serialised (C7510/C7515 and the
     * like: accumulator registers it could not keep in place) or a register reallocation it ignored (C7508).
     */
    private static final Pattern SLOW_PATH_WARNING = Pattern.compile("(?m)^.*(C75(0[89]|1[0-9])|wgmma[^\\n]*serializ).*$");

    /**
     * What the compile says about a slow path, one line each: spills, and for a kernel using wgmma also a
     * stack frame or a slow-path warning in the log. Empty when there is none; CI's kernel check fails otherwise.
     */
    public List<String> slowPaths(String source) {
        List<String> problems = new ArrayList<>();
        if (spillBytes() > 0) {
            problems.add(name + " spills " + spillBytes() + " bytes");
        }
        if (source.contains("wgmma.")) {
            if (usage.stackFrameBytes() > 0) {
                problems.add(name + " has a " + usage.stackFrameBytes() + "-byte stack frame");
            }
            Matcher warning = SLOW_PATH_WARNING.matcher(log);
            while (warning.find()) {
                problems.add(name + ": " + warning.group().strip());
            }
        }
        return problems;
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

package dev.octet.gpu;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What ptxas reports for one entry function under {@code --ptxas-options=-v}: registers per thread, stack
 * frame and spill traffic. Spills are the first sign that a tile size is too large for the register file.
 */
public record PtxasUsage(int registers, int stackFrameBytes, int spillStoreBytes, int spillLoadBytes) {

    private static final Pattern ENTRY = Pattern.compile("Compiling entry function '([^']+)'");
    private static final Pattern REGISTERS = Pattern.compile("Used (\\d+) registers");
    private static final Pattern FRAME = Pattern.compile(
            "(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");

    public int spillBytes() {
        return spillStoreBytes + spillLoadBytes;
    }

    /**
     * Reads the block of {@code log} that belongs to entry {@code function} (the first entry when the log
     * names no entry of that name, as for a single-kernel program compiled with a mangled name).
     */
    public static PtxasUsage parse(String log, String function) {
        String block = entryBlock(log, function);
        Matcher registers = REGISTERS.matcher(block);
        if (!registers.find()) {
            throw new IllegalArgumentException("no 'Used N registers' line for " + function
                    + " in the compile log (was --ptxas-options=-v passed?)");
        }
        Matcher frame = FRAME.matcher(block);
        boolean hasFrame = frame.find();
        return new PtxasUsage(Integer.parseInt(registers.group(1)),
                hasFrame ? Integer.parseInt(frame.group(1)) : 0,
                hasFrame ? Integer.parseInt(frame.group(2)) : 0,
                hasFrame ? Integer.parseInt(frame.group(3)) : 0);
    }

    private static String entryBlock(String log, String function) {
        Matcher entries = ENTRY.matcher(log);
        int start = -1;
        int firstEntry = -1;
        while (entries.find()) {
            if (firstEntry < 0) {
                firstEntry = entries.start();
            }
            if (entries.group(1).equals(function)) {
                start = entries.start();
                break;
            }
        }
        if (start < 0) {
            start = Math.max(firstEntry, 0);
        }
        Matcher next = ENTRY.matcher(log);
        int end = next.find(Math.min(start + 1, log.length())) ? next.start() : log.length();
        return log.substring(start, end);
    }
}

package dev.octet.cli;

/** What {@code octet} returns to the shell. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The input (a .octet file, a data file) is invalid; diagnostics say why. */
    public static final int INVALID_INPUT = 1;
    /** The command line itself is wrong: unknown option, missing file. */
    public static final int USAGE = 2;
    /** A bug in Octet. */
    public static final int INTERNAL = 3;
    /** The JVM ran out of heap: the run is larger than the heap it was given. */
    public static final int OUT_OF_MEMORY = 4;
    /** The GPU's memory is too small for the run: refused before allocating, or CUDA_ERROR_OUT_OF_MEMORY. */
    public static final int DEVICE_OUT_OF_MEMORY = 5;
    /** Another rank of a data-parallel run stopped, so this one could not go on. */
    public static final int RANK_FAILED = 6;

    private ExitCodes() {}
}

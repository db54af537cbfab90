package dev.octet.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NCCL, the collective-communication library NVIDIA ships ({@code libnccl.so.2}), bound with java.lang.foreign
 * as the driver calls JCuda lacks are ({@link ForeignDriver}). It is looked for as the file
 * {@value #LIBRARY_ENV} names, else as {@value #LIBRARY} through the dynamic linker (LD_LIBRARY_PATH); where
 * neither loads, {@link #probe} says so in one line, as {@link CudaAvailability} does for the driver.
 *
 * <p>NVLink SHARP (NVLS, NVLink multicast) is switched off before the first communicator exists
 * ({@code NCCL_NVLS_ENABLE=0} in the process environment): a program that uses it can take a shared host's
 * GPUs out of service, and the collectives here (gradients, weight shards) do not need it.
 *
 * <p>Buffers and streams are device addresses and {@code CUstream} handles of the context current on the
 * calling thread; every call returns once the collective is enqueued on the stream.
 */
public final class Nccl {
    public static final String LIBRARY = "libnccl.so.2";
    /** An environment variable naming the library file, for installs off the linker's path (e.g. PyTorch's wheel). */
    public static final String LIBRARY_ENV = "OCTET_NCCL_LIBRARY";
    /** {@code sizeof(ncclUniqueId)}: the opaque bytes rank 0 creates and every rank passes to {@link #initRank}. */
    public static final int UNIQUE_ID_BYTES = 128;

    private static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE).withName("internal"));

    /** {@code ncclDataType_t} values of nccl.h; FP8 codes travel as bytes. */
    public enum DataType {
        UINT8(1, 1), FLOAT32(7, 4), BFLOAT16(9, 2);

        final int code;
        public final int bytes;

        DataType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }
    }

    /** {@code ncclRedOp_t} values of nccl.h. */
    public enum ReduceOp {
        SUM(0), MAX(2), AVG(4);

        final int code;

        ReduceOp(int code) {
            this.code = code;
        }
    }

    /** Whether NCCL can be used, with its version, or why not in one line. */
    public sealed interface Availability {
        record Available(Nccl nccl) implements Availability {}

        record Unavailable(String reason) implements Availability {
            public Unavailable {
                reason = reason.replaceAll("\\s*\\R\\s*", " ").strip();
            }
        }
    }

    private final String library;
    private final MethodHandle getVersion, getUniqueId, commInitRank, commDestroy, commAbort, allReduce,
            reduceScatter, allGather, getErrorString;
    private final int version;

    private Nccl(ForeignLibrary nccl) throws Throwable {
        library = nccl.soname();
        getVersion = nccl.function("ncclGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getUniqueId = nccl.function("ncclGetUniqueId", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commInitRank = nccl.function("ncclCommInitRank",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
        commDestroy = nccl.function("ncclCommDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commAbort = nccl.function("ncclCommAbort", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // (send, recv, count, type, op, comm, stream); all-gather has no op.
        allReduce = nccl.function("ncclAllReduce", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        reduceScatter = nccl.function("ncclReduceScatter", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        allGather = nccl.function("ncclAllGather", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
        getErrorString = nccl.function("ncclGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) getVersion.invokeExact(out), "ncclGetVersion");
            version = out.get(JAVA_INT, 0);
        }
    }

    /** NCCL from the process environment's {@value #LIBRARY_ENV}, else the linker's {@value #LIBRARY}. Never throws. */
    public static Availability probe() {
        return probe(System.getenv());
    }

    static Availability probe(Map<String, String> environment) {
        Optional<String> file = Optional.ofNullable(environment.get(LIBRARY_ENV)).filter(f -> !f.isBlank());
        String soname = file.orElse(LIBRARY);
        try {
            Optional<ForeignLibrary> library = ForeignLibrary.open(soname);
            if (library.isEmpty()) {
                return new Availability.Unavailable(file.isPresent()
                        ? LIBRARY_ENV + "=" + soname + " cannot be loaded (no such file, or not a shared library)"
                        : LIBRARY + " cannot be loaded: NCCL is not on the library path (set LD_LIBRARY_PATH, or "
                                + LIBRARY_ENV + " to the file; PyTorch wheels carry it in nvidia/nccl/lib)");
            }
            return new Availability.Available(new Nccl(library.get()));
        } catch (Throwable t) {
            return new Availability.Unavailable("opening NCCL from " + soname + " failed: " + t);
        }
    }

    /** NCCL's version code, e.g. 22703 for 2.27.3. */
    public int version() {
        return version;
    }

    /** The version as major.minor.patch. */
    public String versionName() {
        return version / 10000 + "." + version / 100 % 100 + "." + version % 100;
    }

    /** A fresh communicator id: created by rank 0, handed to every rank (see {@code dev.octet.dist.UniqueIdRendezvous}). */
    public byte[] uniqueId() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(UNIQUE_ID);
            check((int) getUniqueId.invokeExact(id), "ncclGetUniqueId");
            return id.toArray(JAVA_BYTE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Joins the communicator of {@code worldSize} ranks named by {@code uniqueId} as {@code rank}, on the device
     * of the context current on this thread. Blocks until every rank has joined.
     */
    public Communicator initRank(byte[] uniqueId, int worldSize, int rank) {
        if (uniqueId.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("an NCCL unique id is " + UNIQUE_ID_BYTES + " bytes, not " + uniqueId.length);
        }
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " is not one of 0.." + (worldSize - 1));
        }
        disableNvlinkSharp();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comm = arena.allocate(ADDRESS);
            MemorySegment id = arena.allocate(UNIQUE_ID);
            id.copyFrom(MemorySegment.ofArray(Arrays.copyOf(uniqueId, UNIQUE_ID_BYTES)));
            check((int) commInitRank.invokeExact(comm, worldSize, id, rank),
                    "ncclCommInitRank(rank " + rank + " of " + worldSize + ")");
            return new Communicator(comm.get(ADDRESS, 0), worldSize, rank);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** One rank's membership of a communicator; collectives over device buffers, enqueued on a stream. */
    public final class Communicator implements AutoCloseable {
        private MemorySegment comm;
        private final int worldSize, rank;

        private Communicator(MemorySegment comm, int worldSize, int rank) {
            this.comm = comm;
            this.worldSize = worldSize;
            this.rank = rank;
        }

        public int worldSize() {
            return worldSize;
        }

        public int rank() {
            return rank;
        }

        /** {@code recv[i] = op over ranks of send[i]}, {@code count} elements; in place when both are equal. */
        public void allReduce(long send, long recv, long count, DataType type, ReduceOp op, long stream) {
            call("ncclAllReduce", () -> (int) allReduce.invokeExact(MemorySegment.ofAddress(send),
                    MemorySegment.ofAddress(recv), count, type.code, op.code, live(), MemorySegment.ofAddress(stream)));
        }

        /**
         * {@code count} elements of {@code type} at {@code offsetBytes} in {@code buffer} replaced in place by their
         * reduction over the ranks, enqueued on {@code stream}: every rank gets the same bits.
         */
        public void allReduceInPlace(DeviceBuffer buffer, long offsetBytes, long count, DataType type, ReduceOp op,
                                     CudaStream stream) {
            long address = buffer.address() + offsetBytes;
            allReduce(address, address, count, type, op, stream.address());
        }

        /** Reduces {@code worldSize × recvCount} elements of every rank's send; rank r keeps block r in recv. */
        public void reduceScatter(long send, long recv, long recvCount, DataType type, ReduceOp op, long stream) {
            call("ncclReduceScatter", () -> (int) reduceScatter.invokeExact(MemorySegment.ofAddress(send),
                    MemorySegment.ofAddress(recv), recvCount, type.code, op.code, live(), MemorySegment.ofAddress(stream)));
        }

        /** Every rank's {@code sendCount} elements, in rank order, into every rank's recv. */
        public void allGather(long send, long recv, long sendCount, DataType type, long stream) {
            call("ncclAllGather", () -> (int) allGather.invokeExact(MemorySegment.ofAddress(send),
                    MemorySegment.ofAddress(recv), sendCount, type.code, live(), MemorySegment.ofAddress(stream)));
        }

        /** Leaves at once, without waiting for the other ranks: what a rank does when another has failed. */
        public void abort() {
            if (comm != null) {
                MemorySegment c = comm;
                comm = null;
                call("ncclCommAbort", () -> (int) commAbort.invokeExact(c));
            }
        }

        @Override
        public void close() {
            if (comm != null) {
                MemorySegment c = comm;
                comm = null;
                call("ncclCommDestroy", () -> (int) commDestroy.invokeExact(c));
            }
        }

        private MemorySegment live() {
            if (comm == null) {
                throw new IllegalStateException("NCCL communicator of rank " + rank + " is closed");
            }
            return comm;
        }
    }

    @FunctionalInterface
    private interface NcclCall {
        int invoke() throws Throwable;
    }

    private void call(String what, NcclCall call) {
        try {
            check(call.invoke(), what);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void check(int result, String call) throws Throwable {
        if (result != 0) {
            String text = ForeignLibrary.cString((MemorySegment) getErrorString.invokeExact(result), "");
            throw new IllegalStateException(call + " failed in " + library + ": NCCL error " + result
                    + (text.isEmpty() ? "" : " (" + text + ")"));
        }
    }

    /** NCCL reads NCCL_NVLS_ENABLE when a communicator is created; set here for this process, overriding any value. */
    private static void disableNvlinkSharp() {
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            int rc = (int) setenv.invokeExact(arena.allocateFrom("NCCL_NVLS_ENABLE"), arena.allocateFrom("0"), 1);
            if (rc != 0) {
                throw new IllegalStateException("setenv(NCCL_NVLS_ENABLE=0) failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}

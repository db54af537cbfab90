package dev.octet.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Whether a CUDA device can be used, found through java.lang.foreign calls into libcuda.so.1: JCuda's
 * driver binding throws UnsatisfiedLinkError as soon as it is loaded where libcuda is missing (CI, laptops),
 * so nothing touches JCuda before this says {@link Available}.
 */
public sealed interface CudaAvailability {

    record Available(String deviceName, ComputeCapability computeCapability, long memoryBytes, int deviceCount,
                     int driverVersion) implements CudaAvailability {
        @Override
        public String toString() {
            return deviceName + " (compute " + computeCapability + ", " + (memoryBytes >> 20) + " MiB, driver API "
                    + driverVersion + ")";
        }
    }

    /** Why CUDA cannot be used, in one line. */
    record Unavailable(String reason) implements CudaAvailability {
        public Unavailable {
            reason = reason.replaceAll("\\s*\\R\\s*", " ").strip();
        }
    }

    String DRIVER_LIBRARY = "libcuda.so.1";

    /** Probes device 0 of the system's driver. Never throws. */
    static CudaAvailability probe() {
        return probe(DRIVER_LIBRARY);
    }

    /** Probes device 0 through the driver library {@code soname}. Never throws. */
    static CudaAvailability probe(String soname) {
        try {
            return ForeignLibrary.open(soname)
                    .map(CudaAvailability::probeDevice)
                    .orElseGet(() -> new Unavailable(soname + " cannot be loaded (no NVIDIA driver on this machine)"));
        } catch (Throwable unexpected) {
            return new Unavailable("probing " + soname + " failed: " + unexpected);
        }
    }

    private static CudaAvailability probeDevice(ForeignLibrary cuda) {
        // Attribute ids from cuda.h: CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR/MINOR.
        final int ccMajor = 75, ccMinor = 76;
        MethodHandle init = cuda.function("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MethodHandle driverVersion = cuda.function("cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle count = cuda.function("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle get = cuda.function("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle name = cuda.function("cuDeviceGetName",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        MethodHandle attribute = cuda.function("cuDeviceGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        MethodHandle totalMem = cuda.function("cuDeviceTotalMem_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        ForeignDriverErrors errors = new ForeignDriverErrors(cuda);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment intOut = arena.allocate(JAVA_INT);
            int rc = (int) init.invokeExact(0);
            if (rc != 0) {
                return new Unavailable("cuInit failed: " + errors.describe(rc));
            }
            rc = (int) driverVersion.invokeExact(intOut);
            int version = rc == 0 ? intOut.get(JAVA_INT, 0) : 0;
            rc = (int) count.invokeExact(intOut);
            if (rc != 0) {
                return new Unavailable("cuDeviceGetCount failed: " + errors.describe(rc));
            }
            int devices = intOut.get(JAVA_INT, 0);
            if (devices == 0) {
                return new Unavailable("the NVIDIA driver reports no CUDA device");
            }
            rc = (int) get.invokeExact(intOut, 0);
            if (rc != 0) {
                return new Unavailable("cuDeviceGet(0) failed: " + errors.describe(rc));
            }
            int device = intOut.get(JAVA_INT, 0);
            MemorySegment nameOut = arena.allocate(256);
            int rcName = (int) name.invokeExact(nameOut, 256, device);
            int rcMajor = (int) attribute.invokeExact(intOut, ccMajor, device);
            int major = intOut.get(JAVA_INT, 0);
            int rcMinor = (int) attribute.invokeExact(intOut, ccMinor, device);
            int minor = intOut.get(JAVA_INT, 0);
            MemorySegment bytesOut = arena.allocate(JAVA_LONG);
            int rcMem = (int) totalMem.invokeExact(bytesOut, device);
            for (int r : new int[] {rcName, rcMajor, rcMinor, rcMem}) {
                if (r != 0) {
                    return new Unavailable("querying device 0 failed: " + errors.describe(r));
                }
            }
            return new Available(nameOut.getString(0), new ComputeCapability(major, minor),
                    bytesOut.get(JAVA_LONG, 0), devices, version);
        } catch (Throwable t) {
            return new Unavailable("probing " + cuda.soname() + " failed: " + t);
        }
    }
}

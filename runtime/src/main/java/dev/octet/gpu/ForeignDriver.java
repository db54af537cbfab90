package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The driver entry points JCuda 12.6 lacks, bound with java.lang.foreign against the same libcuda.so.1:
 * cuTensorMapEncodeTiled (TMA descriptors) and cuLaunchKernelEx (here for thread-block clusters). They act
 * on the handles JCuda created, in the context current on the calling thread.
 */
public final class ForeignDriver {
    /** CUtensorMap's alignment in CUDA 13's cuda.h (64 in CUDA 12); the larger one suits both. */
    private static final long TENSOR_MAP_ALIGNMENT = 128;

    private final MethodHandle encodeTiled;
    private final MethodHandle launchKernelEx;
    private final ForeignDriverErrors errors;

    private ForeignDriver(ForeignLibrary cuda) {
        encodeTiled = cuda.function("cuTensorMapEncodeTiled", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        launchKernelEx = cuda.function("cuLaunchKernelEx",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        errors = new ForeignDriverErrors(cuda);
    }

    public static ForeignDriver open() {
        if (CudaAvailability.probe() instanceof CudaAvailability.Unavailable why) {
            throw new CudaUnavailableException(why);
        }
        return new ForeignDriver(ForeignLibrary.open(CudaAvailability.DRIVER_LIBRARY).orElseThrow());
    }

    public TensorMap encodeTiled(TensorMapSpec spec) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map = arena.allocate(TensorMap.BYTES, TENSOR_MAP_ALIGNMENT);
            MemorySegment dims = arena.allocate(JAVA_LONG, spec.rank());
            MemorySegment strides = arena.allocate(JAVA_LONG, Math.max(1, spec.rank() - 1));
            MemorySegment box = arena.allocate(JAVA_INT, spec.rank());
            MemorySegment elementStrides = arena.allocate(JAVA_INT, spec.rank());
            for (int i = 0; i < spec.rank(); i++) {
                dims.setAtIndex(JAVA_LONG, i, spec.globalDims().get(i));
                box.setAtIndex(JAVA_INT, i, spec.boxDims().get(i));
                elementStrides.setAtIndex(JAVA_INT, i, spec.elementStrides().get(i));
            }
            for (int i = 0; i < spec.rank() - 1; i++) {
                strides.setAtIndex(JAVA_LONG, i, spec.globalStrides().get(i));
            }
            int result = (int) encodeTiled.invokeExact(map, spec.dataType().code, spec.rank(),
                    MemorySegment.ofAddress(spec.globalAddress()), dims, strides, box, elementStrides,
                    spec.interleave().ordinal(), spec.swizzle().ordinal(), spec.l2Promotion().ordinal(),
                    spec.oobFill().ordinal());
            check(result, "cuTensorMapEncodeTiled", Optional.empty());
            return new TensorMap(map.toArray(JAVA_BYTE));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Launches {@code kernel} in clusters of {@code cluster} blocks; the grid must tile into whole clusters. */
    public void launchWithCluster(KernelFunction function, CudaKernel kernel, ClusterShape cluster,
                                  CudaStream stream, List<KernelArg> args) {
        if (!function.name().equals(kernel.name())) {
            throw new IllegalArgumentException("function " + function.name() + " launched as kernel " + kernel.name());
        }
        KernelArguments.check(kernel, args);
        cluster.requireDivides(kernel.launch());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = LaunchConfigLayout.clusterLaunch(arena, kernel.launch(), stream.address(), cluster);
            MemorySegment params = arena.allocate(ADDRESS, Math.max(1, args.size()));
            for (int i = 0; i < args.size(); i++) {
                params.setAtIndex(ADDRESS, i, args.get(i).allocate(arena));
            }
            int result = (int) launchKernelEx.invokeExact(config, MemorySegment.ofAddress(function.address()),
                    params, MemorySegment.NULL);
            check(result, "cuLaunchKernelEx(cluster " + cluster.x() + "x" + cluster.y() + "x" + cluster.z() + ")",
                    Optional.of(kernel.name()));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void check(int result, String call, Optional<String> kernel) {
        if (result != 0) {
            throw new CudaException(call, kernel, result, errors.name(result));
        }
    }
}

package dev.octet.gpu;

import dev.octet.compiler.cuda.CudaKernel;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/** A CUBIN loaded into the current context, and the entry points looked up in it. */
public final class LoadedModule implements AutoCloseable {
    /** Dynamic shared memory a kernel may use without opting in; above it needs cuFuncSetAttribute. */
    public static final int DEFAULT_DYNAMIC_SHARED_LIMIT = 48 * 1024;

    private final CUmodule module;
    private final String name;
    private boolean unloaded;

    private LoadedModule(CUmodule module, String name) {
        this.module = module;
        this.name = name;
    }

    public static LoadedModule load(CompiledKernel compiled) {
        CUmodule module = new CUmodule();
        CudaCheck.check(JCudaDriver.cuModuleLoadData(module, compiled.cubin()), "cuModuleLoadData",
                compiled.name());
        return new LoadedModule(module, compiled.name());
    }

    public KernelFunction function(String entry) {
        CUfunction function = new CUfunction();
        CudaCheck.check(JCudaDriver.cuModuleGetFunction(function, module, entry), "cuModuleGetFunction", entry);
        return new KernelFunction(entry, function);
    }

    /**
     * The entry point of {@code kernel}, allowed the dynamic shared memory its launch geometry asks for
     * (Hopper kernels with deep pipelines want up to 227 KB, far above the 48 KB default).
     */
    public KernelFunction function(CudaKernel kernel) {
        KernelFunction function = function(kernel.name());
        int shared = kernel.launch().sharedBytes();
        if (shared > DEFAULT_DYNAMIC_SHARED_LIMIT) {
            CudaCheck.check(JCudaDriver.cuFuncSetAttribute(function.handle(),
                    CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared),
                    "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES, " + shared + ")", kernel.name());
        }
        return function;
    }

    @Override
    public void close() {
        if (!unloaded) {
            unloaded = true;
            CudaCheck.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload", name);
        }
    }
}

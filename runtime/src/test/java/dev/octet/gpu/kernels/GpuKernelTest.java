package dev.octet.gpu.kernels;

import dev.octet.gpu.RequiresCudaDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test class that runs generated kernels on a CUDA device against their CPU oracles: tagged {@code gpu}
 * (left out of the default build) and skipped, with the probe's one-line reason, where there is no device.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@ExtendWith(RequiresCudaDevice.class)
public @interface GpuKernelTest {}

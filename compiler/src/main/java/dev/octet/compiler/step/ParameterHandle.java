package dev.octet.compiler.step;

import java.util.Optional;

/**
 * A trainable parameter of a compiled step and the buffers that serve it; no working copy where every reader
 * quantizes the master.
 */
public record ParameterHandle(String name, boolean decays, BufferHandle master, Optional<BufferHandle> shadow,
                              BufferHandle gradient, BufferHandle m, BufferHandle v) {}

package dev.octet.compiler.step;

/** A trainable parameter of a compiled step and the buffers that serve it. */
public record ParameterHandle(String name, boolean decays, BufferHandle master, BufferHandle shadow,
                              BufferHandle gradient, BufferHandle m, BufferHandle v) {}

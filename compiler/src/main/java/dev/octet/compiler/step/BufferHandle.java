package dev.octet.compiler.step;

import java.util.List;

/**
 * A buffer of a compiled step: its name in the IR, element type (f32, bf16, e4m3, e5m2, i32), shape,
 * storage kind and place in the arena.
 */
public record BufferHandle(String name, String dtype, List<Integer> shape, String storage, long offset, long bytes) {
    public BufferHandle {
        shape = List.copyOf(shape);
    }
}

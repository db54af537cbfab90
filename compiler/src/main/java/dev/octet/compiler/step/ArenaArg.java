package dev.octet.compiler.step;

/** One kernel argument of a compiled step: a buffer as its byte offset into the arena, or a scalar. */
public sealed interface ArenaArg {
    record Offset(long bytes) implements ArenaArg {}

    record F32(float value) implements ArenaArg {}

    record I32(int value) implements ArenaArg {}

    static ArenaArg offset(long bytes) {
        return new Offset(bytes);
    }

    static ArenaArg f32(float value) {
        return new F32(value);
    }

    static ArenaArg i32(int value) {
        return new I32(value);
    }
}

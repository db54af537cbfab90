package dev.octet.cpu.ops;

/** Argument checks shared by the ops: fail early with the shape in the message rather than deep in a loop. */
final class Shapes {
    private Shapes() {}

    static void require(double[] a, long length, String name) {
        if (a.length < length) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, needs " + length);
        }
    }

    static void require(float[] a, long length, String name) {
        if (a.length < length) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, needs " + length);
        }
    }

    static void require(int[] a, long length, String name) {
        if (a.length < length) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, needs " + length);
        }
    }

    static void check(boolean condition, String message) {
        if (!condition) throw new IllegalArgumentException(message);
    }
}

package dev.octet.gpu.exec;

/** Error measures of device results against the CPU oracle. */
final class GpuComparisons {
    private GpuComparisons() {}

    /** ‖a − b‖ / ‖b‖; 0 when both are zero. */
    static double relativeL2(float[] a, double[] b) {
        double diff = 0, ref = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            diff += d * d;
            ref += b[i] * b[i];
        }
        return ref == 0 ? Math.sqrt(diff) : Math.sqrt(diff / ref);
    }

    /**
     * ‖a − b‖ / max(‖b‖, floor): relative error, measured against {@code floor} where the reference itself is
     * tiny — a gradient that is zero in exact arithmetic (a key bias without RoPE: softmax ignores a shift
     * common to all keys) holds only rounding noise on both sides.
     */
    static double relativeL2WithFloor(float[] a, double[] b, double floor) {
        double diff = 0, ref = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            diff += d * d;
            ref += b[i] * b[i];
        }
        return Math.sqrt(diff) / Math.max(Math.sqrt(ref), floor);
    }

    static double relativeL2(float[] a, float[] b) {
        double[] d = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            d[i] = b[i];
        }
        return relativeL2(a, d);
    }

    /** ‖(a − start) − (b − start)‖ / ‖b − start‖: the error of an update, not of the weights it moved. */
    static double updateError(float[] a, float[] b, float[] start) {
        double diff = 0, ref = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            double u = (double) b[i] - start[i];
            diff += d * d;
            ref += u * u;
        }
        return ref == 0 ? Math.sqrt(diff) : Math.sqrt(diff / ref);
    }

    static double relative(double a, double b) {
        return Math.abs(a - b) / Math.abs(b);
    }
}

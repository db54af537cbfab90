package dev.octet.numerics;

/**
 * What one FP8 quantization lost, kept as counts and sums so that the quantizations of several micro-batches
 * merge into one figure: elements whose scaled magnitude |x/s| reached the format's largest value (clipped, or
 * exactly at it: the scale left them no headroom; values that merely round up to it do not count),
 * nonzero elements flushed to zero, the largest input magnitude, and the signal and error energies behind the
 * signal-to-quantization-noise ratio {@code 10·log10(Σx² / Σ(x − dequant(x))²)}.
 */
public record QuantizationHealth(long elements, long saturated, long flushed, double amax, double signalEnergy,
                                 double noiseEnergy) {

    public QuantizationHealth {
        if (elements < 0 || saturated < 0 || flushed < 0 || saturated > elements || flushed > elements) {
            throw new IllegalArgumentException("counts out of range: " + saturated + " saturated, " + flushed
                    + " flushed of " + elements);
        }
    }

    /** Compares {@code x} with its quantized form {@code q} element by element (same shape, row-major). */
    public static QuantizationHealth measure(float[] x, QuantizedMatrix q) {
        if (x.length != q.rows() * q.cols()) {
            throw new IllegalArgumentException(x.length + " values for a " + q.rows() + "x" + q.cols() + " quantization");
        }
        Fp8Format format = q.format();
        float max = format.maxFinite();
        float[] unscaled = q.decodeUnscaled();
        float[] dequantized = q.dequantize();
        float[] scales = q.expandedScales();
        long saturated = 0;
        long flushed = 0;
        double amax = 0;
        double signal = 0;
        double noise = 0;
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            // Divided in float, as the quantizer divides before it encodes.
            if (Math.abs(x[i] / scales[i]) >= max) {
                saturated++;
            }
            if (v != 0 && unscaled[i] == 0) {
                flushed++;
            }
            double error = v - dequantized[i];
            amax = Math.max(amax, Math.abs(v));
            signal += v * v;
            noise += error * error;
        }
        return new QuantizationHealth(x.length, saturated, flushed, amax, signal, noise);
    }

    /** The figures of both quantizations together, as if they were one tensor. */
    public QuantizationHealth merge(QuantizationHealth other) {
        return new QuantizationHealth(elements + other.elements, saturated + other.saturated, flushed + other.flushed,
                Math.max(amax, other.amax), signalEnergy + other.signalEnergy, noiseEnergy + other.noiseEnergy);
    }

    public double saturatedFraction() {
        return elements == 0 ? 0 : (double) saturated / elements;
    }

    public double flushedFraction() {
        return elements == 0 ? 0 : (double) flushed / elements;
    }

    /** Quantization SNR in dB; +∞ when nothing was lost (an all-zero tensor included). */
    public double snrDb() {
        if (noiseEnergy == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10 * Math.log10(signalEnergy / noiseEnergy);
    }
}

package dev.octet.dsl.spec;

/**
 * Llama 3's frequency-dependent RoPE scaling ({@code rope_scaling = llama3(...)}, transformers' rope_type
 * "llama3"): rotary frequencies whose wavelength is longer than {@code originalMaxSeq / lowFreqFactor} are divided
 * by {@code factor}, those shorter than {@code originalMaxSeq / highFreqFactor} are kept, and those between are
 * blended linearly in {@code originalMaxSeq / wavelength}. The attention scale is unchanged.
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxSeq) {
    public RopeScaling {
        if (!(factor >= 1) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxSeq < 1) {
            throw new IllegalArgumentException("llama3 RoPE scaling needs factor >= 1, 0 < low_freq_factor < "
                    + "high_freq_factor and original_max_seq >= 1; got " + this);
        }
    }

    /** The DSL's spelling. */
    public String describe() {
        return "llama3(factor = " + number(factor) + ", low_freq_factor = " + number(lowFreqFactor) + ", high_freq_factor = "
                + number(highFreqFactor) + ", original_max_seq = " + originalMaxSeq + ")";
    }

    /** One unscaled inverse frequency, scaled. */
    double scale(double inverseFrequency) {
        double wavelength = 2 * Math.PI / inverseFrequency;
        double lowFrequencyWavelength = originalMaxSeq / lowFreqFactor;
        double highFrequencyWavelength = originalMaxSeq / highFreqFactor;
        if (wavelength < highFrequencyWavelength) {
            return inverseFrequency;
        }
        if (wavelength > lowFrequencyWavelength) {
            return inverseFrequency / factor;
        }
        double smooth = (originalMaxSeq / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency;
    }

    private static String number(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
    }
}

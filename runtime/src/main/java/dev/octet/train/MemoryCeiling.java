package dev.octet.train;

import java.util.Locale;

/**
 * The memory bandwidth a step profile measures its memory-bound kernels against, by the GPU the step ran on: the
 * datasheet figure of that card. The tensor-core peaks need no such choice ({@link GemmPeak}: the H100 SXM and
 * the H200 share them); their memories differ by 1.4×, so a quantize kernel at 2,100 GB/s is 44% of an H200's
 * bandwidth and 63% of an H100 SXM's. A card not listed is measured against the H200's figure, and says so.
 *
 * @param device       the card, as the profile names it
 * @param gbPerSecond  its memory bandwidth, GB/s
 * @param known        whether the figure is this card's (else the H200's, for want of one)
 */
public record MemoryCeiling(String device, double gbPerSecond, boolean known) {
    /** H200 SXM, HBM3e. */
    public static final MemoryCeiling H200 = new MemoryCeiling("H200", 4800, true);

    /** The ceiling of the card the CUDA driver names {@code deviceName} (e.g. "NVIDIA H100 80GB HBM3"). */
    public static MemoryCeiling of(String deviceName) {
        String name = deviceName.toUpperCase(Locale.ROOT);
        if (name.contains("H200")) {
            return new MemoryCeiling(deviceName, H200.gbPerSecond(), true);
        }
        if (name.contains("H100") && name.contains("PCIE")) {
            return new MemoryCeiling(deviceName, 2000, true);
        }
        if (name.contains("H100") && name.contains("NVL")) {
            return new MemoryCeiling(deviceName, 3900, true);
        }
        if (name.contains("H100") || name.contains("H800")) {
            return new MemoryCeiling(deviceName, 3350, true);  // SXM, HBM3
        }
        return new MemoryCeiling(deviceName, H200.gbPerSecond(), false);
    }

    /** "4,800 GB/s (NVIDIA H200)", or for a card not listed "4,800 GB/s (an H200's; X not known)". */
    public String describe() {
        String gb = String.format(Locale.ROOT, "%,.0f GB/s", gbPerSecond);
        return known ? gb + " (" + device + ")" : gb + " (an H200's; " + device + " not known)";
    }
}

/**
 * {@code octet tune}: calibration steps on the CPU backend measure FP8 candidates on every quantized GEMM operand
 * ({@link dev.octet.tune.CalibrationRecorder}, {@link dev.octet.tune.OperandMeasurer}); {@link dev.octet.tune.RecipeTuner}
 * chooses the cheapest within a fidelity bound, priced by {@link dev.octet.tune.MeasuredPricing} (the plan each candidate
 * compiles to, launches priced from measured {@link dev.octet.tune.KernelRates}) or {@link dev.octet.tune.SpeedRanking}'s
 * fixed ranking; {@link dev.octet.tune.TunedRecipeFile}
 * writes the result in the language.
 */
package dev.octet.tune;

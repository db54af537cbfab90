package dev.octet.report;

/** One FP8 operand's health at one measured step, as {@code fp8_health.jsonl} holds it. */
public record HealthSample(long step, String tensor, double snrDb, double saturated, double flushed, double amax) {}

package dev.octet.report;

/** One value of a run at one training step. */
public record Point(long step, double value) {}

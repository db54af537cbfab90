/**
 * {@code octet report}: reads run directories ({@code metrics.jsonl}, {@code fp8_health.jsonl}, {@code run.json})
 * and writes a static HTML page with SVG charts that compares them.
 */
package dev.octet.report;

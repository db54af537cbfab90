package dev.octet.data.jsonl;

/** What a bad JSONL record does: stop with its error, or skip it (skipped records are counted and reported). */
public enum BadRecordPolicy {
    STOP, SKIP
}

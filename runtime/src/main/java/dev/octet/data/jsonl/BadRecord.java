package dev.octet.data.jsonl;

import dev.octet.dsl.diag.Excerpt;
import java.nio.file.Path;

/** A JSONL line that could not be used, and why; reads {@code file:line: reason}. */
public record BadRecord(Path file, long line, String reason) {
    @Override
    public String toString() {
        return file + ":" + line + ": " + Excerpt.clipWords(reason);
    }
}

package dev.octet.data.jsonl;

import java.io.IOException;

/** A bad record met under {@link BadRecordPolicy#STOP}: the message is {@code file:line: reason}. */
public final class BadRecordException extends IOException {
    private final BadRecord record;

    public BadRecordException(BadRecord record) {
        super(record + " (--on-bad-record=skip skips such records)");
        this.record = record;
    }

    public BadRecord record() {
        return record;
    }
}

package dev.octet.report;

/** A run directory that cannot be reported on; the message is one line that names the file. */
public final class ReportException extends Exception {
    public ReportException(String message) {
        super(message);
    }
}

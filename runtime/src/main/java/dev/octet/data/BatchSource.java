package dev.octet.data;

/** An endless supply of training batches. */
public interface BatchSource {
    Batch next();
}
